pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// The team state in full: connected / degraded / offline and why, the store, the budget leases
// this instance holds (what is left, until when) and the instances seen in the last 15 minutes.
// Shown by the header chip's popup and by Settings' Team section.
ColumnLayout {
    id: detail

    required property TeamState team

    function time(ms: real): string {
        return ms > 0 ? Format.dateTime(ms) : "—";
    }
    function clock(ms: real): string {
        return ms > 0 ? Format.dateTime(ms).slice(11) : "—";
    }

    spacing: Theme.space3

    RowLayout {
        Layout.fillWidth: true
        spacing: Theme.space2
        StatusChip {
            objectName: "teamStateChip"
            text: detail.team.state === "connected" ? qsTr("Connected")
                : detail.team.state === "degraded" ? qsTr("Degraded")
                : detail.team.state === "offline" ? qsTr("Offline") : qsTr("Connecting")
            tone: detail.team.state === "connected" ? Theme.ok
                : detail.team.state === "degraded" ? Theme.warning
                : detail.team.state === "offline" ? Theme.danger : Theme.textFaint
        }
        Caption {
            Layout.fillWidth: true
            text: detail.team.checkedAt > 0 ? qsTr("checked at %1").arg(detail.clock(detail.team.checkedAt)) : ""
            elide: Text.ElideRight
        }
    }
    Label {
        objectName: "teamStateDetail"
        Layout.fillWidth: true
        text: detail.team.stateDetail
        wrapMode: Text.Wrap
        color: detail.team.state === "offline" ? Theme.danger : detail.team.state === "degraded" ? Theme.warning : Theme.text
    }
    Caption {
        Layout.fillWidth: true
        text: qsTr("Store: %1  ·  this instance: %2").arg(detail.team.storeLocation).arg(detail.team.instanceId)
        wrapMode: Text.WrapAtWordBoundaryOrAnywhere
    }

    SectionTitle {
        text: qsTr("Budget leases held here")
    }
    Caption {
        Layout.fillWidth: true
        visible: detail.team.leases.count === 0
        wrapMode: Text.Wrap
        text: qsTr("None: a lease is taken when a key with a limit is used, and handed back when it idles.")
    }
    Repeater {
        model: detail.team.leases
        delegate: RowLayout {
            id: leaseRow
            required property string keyName
            required property real leftUsd
            required property real amountUsd
            required property real usableUntil
            required property bool live
            Layout.fillWidth: true
            spacing: Theme.space3
            Cell {
                Layout.fillWidth: true
                text: leaseRow.keyName
            }
            Cell {
                text: qsTr("%1 left of %2").arg(Money.usd(leaseRow.leftUsd)).arg(Money.usd(leaseRow.amountUsd))
                color: Theme.textMuted
            }
            Cell {
                Layout.preferredWidth: 130
                horizontalAlignment: Text.AlignRight
                text: leaseRow.live ? qsTr("until %1").arg(detail.clock(leaseRow.usableUntil)) : qsTr("expired")
                color: leaseRow.live ? Theme.textMuted : Theme.warning
            }
        }
    }

    SectionTitle {
        text: qsTr("Instances seen in the last 15 minutes")
    }
    Repeater {
        model: detail.team.peers
        delegate: RowLayout {
            id: peerRow
            required property string instanceId
            required property bool self
            required property real lastSeen
            required property real lastLease
            required property real lastRequest
            Layout.fillWidth: true
            spacing: Theme.space3
            Cell {
                id: peerCell
                objectName: "teamPeer"
                Layout.fillWidth: true
                Layout.minimumWidth: 120
                text: peerRow.instanceId
                font.family: Theme.monoFamily
                font.pixelSize: Theme.fontSmall
                ToolTip.visible: peerHover.hovered && peerCell.truncated
                ToolTip.text: peerRow.instanceId
                HoverHandler {
                    id: peerHover
                }
            }
            StatusChip {
                visible: peerRow.self
                text: qsTr("this machine")
                tone: Theme.accent
                dot: false
            }
            Cell {
                Layout.preferredWidth: 96
                text: qsTr("lease %1").arg(detail.clock(peerRow.lastLease))
                color: Theme.textMuted
                font.pixelSize: Theme.fontSmall
                ToolTip.visible: leaseHover.hovered
                ToolTip.text: qsTr("Its latest budget lease taken or renewed")
                HoverHandler {
                    id: leaseHover
                }
            }
            Cell {
                Layout.preferredWidth: 110
                text: qsTr("request %1").arg(detail.clock(peerRow.lastRequest))
                color: Theme.textMuted
                font.pixelSize: Theme.fontSmall
                ToolTip.visible: requestHover.hovered
                ToolTip.text: qsTr("Its newest request in the log")
                HoverHandler {
                    id: requestHover
                }
            }
        }
    }
}
