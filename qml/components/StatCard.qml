pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// A spend figure with its change against the previous period.
Card {
    id: stat

    required property string title
    required property real value
    required property real previous
    required property string previousLabel   // "yesterday", "last week", ...
    property string footnote: ""

    readonly property real change: stat.previous > 0 ? (stat.value - stat.previous) / stat.previous : 0

    padding: Theme.space4 + 2
    spacing: Theme.space1

    Caption {
        text: stat.title
        font.weight: Font.Medium
    }
    Label {
        Layout.fillWidth: true
        text: Money.usd(stat.value)
        font.pixelSize: Theme.fontDisplay
        font.weight: Font.DemiBold
        color: Theme.text
        elide: Text.ElideRight
    }
    RowLayout {
        spacing: Theme.space2

        StatusChip {
            visible: stat.previous > 0
            dot: false
            text: (stat.change >= 0 ? "▲ " : "▼ ") + Format.percent(Math.abs(stat.change))
            tone: stat.change > 0.005 ? Theme.warning : stat.change < -0.005 ? Theme.ok : Theme.textMuted
        }
        Caption {
            Layout.fillWidth: true
            text: stat.previous > 0 ? qsTr("vs %1 (%2)").arg(stat.previousLabel).arg(Money.usd(stat.previous))
                                    : qsTr("nothing spent %1").arg(stat.previousLabel)
            elide: Text.ElideRight
        }
    }
}
