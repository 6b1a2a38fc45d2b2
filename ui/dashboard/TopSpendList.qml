pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// The biggest spenders (keys or models) of a period, each with its share of the total.
Card {
    id: top

    required property Backend backend
    required property string title
    required property string groupBy   // "key" | "model"
    property string period: "month"
    property string emptyText: qsTr("Nothing spent in this period.")

    spacing: Theme.space3

    TopSpendModel {
        id: topModel
        backend: top.backend
        groupBy: top.groupBy
        period: top.period
        limit: 5
    }

    RowLayout {
        Layout.fillWidth: true
        SectionTitle {
            Layout.fillWidth: true
            text: top.title
        }
        Segmented {
            accessibleName: qsTr("Period of %1").arg(top.title)
            options: [
                { value: "day", label: qsTr("Today") },
                { value: "week", label: qsTr("Week") },
                { value: "month", label: qsTr("Month") }
            ]
            current: top.period
            onCurrentChanged: top.period = current
        }
    }

    Caption {
        visible: list.count === 0
        Layout.topMargin: Theme.space2
        Layout.bottomMargin: Theme.space2
        text: top.emptyText
    }

    // Rows in a positioner, not in the card's layout: a Quick Layout in Qt 6.4 can touch a Repeater
    // item that is being destroyed when the model resets, and crash.
    Column {
        id: rows
        Layout.fillWidth: true
        spacing: Theme.space3

        Repeater {
            id: list
            model: topModel
            delegate: ColumnLayout {
                id: entry
                required property string name
                required property real cost
                required property int requests
                required property real share
                required property int unpriced
                required property int index
                width: rows.width
                spacing: 5

                RowLayout {
                    Layout.fillWidth: true
                    spacing: Theme.space2
                    Rectangle {
                        implicitWidth: 8
                        implicitHeight: 8
                        radius: 2
                        color: Theme.seriesColor(entry.index)
                    }
                    Label {
                        Layout.fillWidth: true
                        text: entry.name
                        elide: Text.ElideMiddle
                        color: Theme.text
                        font.pixelSize: Theme.fontBody
                    }
                    Caption {
                        text: entry.requests === 1 ? qsTr("1 request") : qsTr("%1 requests").arg(Number(entry.requests).toLocaleString(Qt.locale(), "f", 0))
                    }
                    Label {
                        Layout.preferredWidth: 76
                        horizontalAlignment: Text.AlignRight
                        // Unpriced requests have an unknown cost, not $0 (as Rankings says).
                        text: entry.unpriced > 0 ? (entry.cost > 0 ? "≥ " + Money.usd(entry.cost) : qsTr("unpriced")) : Money.usd(entry.cost)
                        font.pixelSize: Theme.fontBody
                        font.weight: Font.DemiBold
                        color: entry.unpriced > 0 && entry.cost === 0 ? Theme.textFaint : Theme.text
                        ToolTip.visible: entry.unpriced > 0 && unpricedHover.hovered
                        ToolTip.text: qsTr("%n request(s) without a price: their cost is unknown. Give the model a price on the Providers page.", "", entry.unpriced)
                        HoverHandler {
                            id: unpricedHover
                        }
                    }
                }
                UsageBar {
                    Layout.fillWidth: true
                    implicitHeight: 4
                    fraction: entry.share
                    thresholds: false
                    tone: Theme.seriesColor(entry.index)
                }
            }
        }
    }

    Item {
        Layout.fillHeight: true
    }
}
