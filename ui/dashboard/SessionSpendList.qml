pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// Today's spend per agent session (Claude Code sends its session id with every request), most
// expensive first: spend, duration, requests and the model mix as a stacked bar. Hidden while no
// request of today carried a session. A row opens the session's timeline in Activity.
Card {
    id: sessions

    required property Backend backend

    signal openSession(string session)

    spacing: Theme.space3
    visible: sessionModel.count > 0

    SessionSpendModel {
        id: sessionModel
        backend: sessions.backend
        limit: 5
    }

    SectionTitle {
        Layout.fillWidth: true
        text: qsTr("Sessions today")
    }

    // Rows in a positioner, not in the card's layout (see TopSpendList: Qt 6.4 Layout and Repeater resets).
    Column {
        id: rows
        Layout.fillWidth: true
        spacing: Theme.space2

        Repeater {
            model: sessionModel
            delegate: ItemDelegate {
                id: entry
                required property string session
                required property string keyName
                required property real cost
                required property int requests
                required property int unpriced
                required property int failed
                required property real lastAt
                required property real duration
                required property var models
                objectName: "session_" + entry.session
                width: rows.width
                padding: 0
                topPadding: Theme.space1
                bottomPadding: Theme.space1
                hoverEnabled: true
                Accessible.name: qsTr("Session %1: open its timeline").arg(entry.session)
                background: Rectangle {
                    radius: Theme.radius
                    color: entry.hovered ? Theme.surfaceHover : "transparent"
                }
                onClicked: sessions.openSession(entry.session)

                contentItem: ColumnLayout {
                    spacing: Theme.space1

                    RowLayout {
                        Layout.fillWidth: true
                        spacing: Theme.space2

                        Label {
                            Layout.preferredWidth: 90
                            text: entry.session.slice(0, 8)
                            font.family: Theme.monoFamily
                            font.pixelSize: Theme.fontBody
                            color: Theme.accent
                            ToolTip.visible: entry.hovered
                            ToolTip.delay: 600
                            ToolTip.text: qsTr("%1: open its timeline").arg(entry.session)
                        }
                        Caption {
                            Layout.fillWidth: true
                            elide: Text.ElideRight
                            text: qsTr("%1 · %2 · last request %3").arg(entry.keyName).arg(Format.duration(entry.duration))
                                  .arg(Qt.formatTime(new Date(entry.lastAt), "HH:mm"))
                        }
                        Caption {
                            text: (entry.requests === 1 ? qsTr("1 request") : qsTr("%1 requests").arg(Number(entry.requests).toLocaleString(Qt.locale(), "f", 0)))
                                  + (entry.failed > 0 ? qsTr(", %1 failed").arg(entry.failed) : "")
                        }
                        Label {
                            Layout.preferredWidth: 76
                            horizontalAlignment: Text.AlignRight
                            text: entry.unpriced > 0 ? Format.usd(entry.cost) + "*" : Format.usd(entry.cost)
                            font.pixelSize: Theme.fontBody
                            font.weight: Font.DemiBold
                            color: Theme.text
                            ToolTip.visible: entry.unpriced > 0 && costHover.hovered
                            ToolTip.text: qsTr("%1 of its requests had no price").arg(entry.unpriced)
                            HoverHandler {
                                id: costHover
                            }
                        }
                    }
                    // The model mix: a bar split by each model's share of the spend, its legend beside.
                    RowLayout {
                        Layout.fillWidth: true
                        spacing: Theme.space2

                        Item {
                            id: mixBar
                            Layout.preferredWidth: 90
                            Layout.preferredHeight: 6
                            Layout.alignment: Qt.AlignVCenter
                            Row {
                                anchors.fill: parent
                                Repeater {
                                    model: entry.models
                                    delegate: Rectangle {
                                        required property var modelData
                                        required property int index
                                        width: mixBar.width * modelData.share
                                        height: mixBar.height
                                        color: Theme.seriesColor(index)
                                    }
                                }
                            }
                        }
                        Flow {
                            Layout.fillWidth: true
                            spacing: Theme.space3
                            Repeater {
                                model: entry.models
                                delegate: Row {
                                    id: chip
                                    required property var modelData
                                    required property int index
                                    spacing: Theme.space1
                                    Rectangle {
                                        width: 8
                                        height: 8
                                        radius: 2
                                        anchors.verticalCenter: parent.verticalCenter
                                        color: Theme.seriesColor(chip.index)
                                    }
                                    Caption {
                                        text: qsTr("%1 ×%2 %3").arg(chip.modelData.model).arg(chip.modelData.requests).arg(Format.usd(chip.modelData.cost))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
