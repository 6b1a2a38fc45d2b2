pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// Today's spend per agent session (Claude Code sends its session id with every request), most
// expensive first. Hidden while no request of today carried a session.
Card {
    id: sessions

    required property Backend backend

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
            delegate: RowLayout {
                id: entry
                required property string session
                required property string keyName
                required property real cost
                required property int requests
                required property int unpriced
                required property real lastAt
                width: rows.width
                spacing: Theme.space2

                Label {
                    Layout.preferredWidth: 110
                    text: entry.session.slice(0, 8)
                    font.family: Theme.monoFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.text
                    ToolTip.visible: sessionHover.hovered
                    ToolTip.text: entry.session
                    HoverHandler {
                        id: sessionHover
                    }
                }
                Caption {
                    Layout.fillWidth: true
                    elide: Text.ElideRight
                    text: qsTr("%1 · last request %2").arg(entry.keyName).arg(Qt.formatTime(new Date(entry.lastAt), "HH:mm"))
                }
                Caption {
                    text: entry.requests === 1 ? qsTr("1 request") : qsTr("%1 requests").arg(Number(entry.requests).toLocaleString(Qt.locale(), "f", 0))
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
        }
    }
}
