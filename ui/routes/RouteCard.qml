pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// One route: its alias (with a copy button), the strategy and what it means, and the targets in
// routing order, each with a live health dot (and its share for a weighted route).
Card {
    id: card

    required property string routeId
    required property string strategy
    required property string strategyLabel
    required property string strategyHint
    required property var targets // [{model, weight, share, health, healthTip, known}]
    required property int targetCount
    required property string routeHealth

    signal editRequested(string routeId)
    signal deleteRequested(string routeId)
    signal copied(string text)

    readonly property bool weighted: card.strategy === "weighted"

    spacing: Theme.space3

    RowLayout {
        Layout.fillWidth: true
        spacing: Theme.space3

        Rectangle {
            implicitWidth: 36
            implicitHeight: 36
            radius: 18
            color: Theme.accentSoft
            Icon {
                anchors.centerIn: parent
                iconName: "route"
                size: 18
                color: Theme.accent
            }
        }

        ColumnLayout {
            Layout.fillWidth: true
            spacing: 2

            RowLayout {
                spacing: Theme.space2
                Label {
                    text: card.routeId
                    font.family: Theme.monoFamily
                    font.pixelSize: Theme.fontTitle
                    font.weight: Font.DemiBold
                    color: Theme.text
                    elide: Text.ElideRight
                    Layout.maximumWidth: 360
                }
                IconButton {
                    implicitWidth: 24
                    implicitHeight: 24
                    icon.width: 14
                    icon.height: 14
                    iconName: "copy"
                    tip: qsTr("Copy “%1”: tools send it as the model name").arg(card.routeId)
                    onClicked: {
                        App.copyToClipboard(card.routeId);
                        card.copied(card.routeId);
                    }
                }
                StatusChip {
                    text: card.strategyLabel
                    tone: Theme.accent
                    dot: false
                }
                StatusChip {
                    text: card.routeHealth === "healthy" ? qsTr("Healthy")
                        : card.routeHealth === "degraded" ? qsTr("Degraded")
                        : card.routeHealth === "down" ? qsTr("All targets down")
                        : qsTr("No traffic yet")
                    tone: card.routeHealth === "healthy" ? Theme.ok
                        : card.routeHealth === "degraded" ? Theme.warning
                        : card.routeHealth === "down" ? Theme.danger
                        : Theme.textMuted
                }
            }
            Caption {
                Layout.fillWidth: true
                text: card.strategyHint
                elide: Text.ElideRight
            }
        }

        AppButton {
            text: qsTr("Edit")
            icon.source: Theme.icon("edit")
            Accessible.name: qsTr("Edit route %1").arg(card.routeId)
            onClicked: card.editRequested(card.routeId)
        }
        IconButton {
            iconName: "trash"
            tip: qsTr("Delete route %1").arg(card.routeId)
            icon.color: Theme.danger
            onClicked: card.deleteRequested(card.routeId)
        }
    }

    Rectangle {
        Layout.fillWidth: true
        implicitHeight: 1
        color: Theme.border
    }

    // The targets in routing order (in a positioner: see the page about Repeaters in layouts).
    Column {
        id: targetColumn
        Layout.fillWidth: true
        spacing: Theme.space1

        Repeater {
            model: card.targets
            delegate: RowLayout {
                id: targetRow
                required property var modelData
                required property int index
                width: targetColumn.width
                height: 28
                spacing: Theme.space3

                Label {
                    Layout.preferredWidth: 18
                    text: (targetRow.index + 1) + "."
                    horizontalAlignment: Text.AlignRight
                    font.pixelSize: Theme.fontSmall
                    color: Theme.textFaint
                }
                HealthDot {
                    health: targetRow.modelData.health
                    tip: targetRow.modelData.healthTip
                    focusable: true
                }
                Label {
                    Layout.preferredWidth: card.weighted ? 320 : -1
                    Layout.maximumWidth: card.weighted ? 320 : targetRow.width / 2
                    text: targetRow.modelData.model
                    font.family: Theme.monoFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.text
                    elide: Text.ElideMiddle
                }
                StatusChip {
                    visible: !targetRow.modelData.known
                    text: qsTr("Unknown model")
                    tone: Theme.danger
                }
                StatusChip {
                    visible: targetRow.index === 0 && card.strategy === "ordered"
                    text: qsTr("First choice")
                    tone: Theme.textMuted
                    dot: false
                }
                // The share of a weighted route
                RowLayout {
                    visible: card.weighted
                    spacing: Theme.space2
                    UsageBar {
                        Layout.preferredWidth: 240
                        fraction: Math.max(0, targetRow.modelData.share)
                        thresholds: false
                    }
                    Label {
                        Layout.preferredWidth: 96
                        text: qsTr("%1% · weight %2").arg(Math.round(Math.max(0, targetRow.modelData.share) * 100)).arg(targetRow.modelData.weight)
                        font.pixelSize: Theme.fontSmall
                        color: Theme.textMuted
                    }
                }
                Item {
                    Layout.fillWidth: true
                }
            }
        }
    }

    // How to use it
    Rectangle {
        Layout.fillWidth: true
        implicitHeight: useRow.implicitHeight + 2 * Theme.space2
        radius: Theme.radiusSmall
        color: Theme.surfaceAlt

        RowLayout {
            id: useRow
            anchors.fill: parent
            anchors.leftMargin: Theme.space3
            anchors.rightMargin: Theme.space3
            spacing: Theme.space2
            Caption {
                text: qsTr("Use it:")
            }
            Label {
                Layout.fillWidth: true
                text: "\"model\": \"%1\"".arg(card.routeId)
                font.family: Theme.monoFamily
                font.pixelSize: Theme.fontSmall
                color: Theme.text
                elide: Text.ElideRight
            }
            Caption {
                text: card.targetCount === 1 ? qsTr("1 target") : qsTr("%1 targets, failover in this order").arg(card.targetCount)
                visible: card.strategy === "ordered"
                color: Theme.textFaint
            }
        }
    }
}
