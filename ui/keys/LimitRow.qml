pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// One spending limit of a key: what was spent against it (a bar that turns amber at 80% and red at
// 100%), a log-scaled slider ($0.10 .. $1,000) and the exact amount beside it. Emits limitChosen
// with the new limit in USD (-1: no limit) when the user lets go of the slider or edits the field.
RowLayout {
    id: row

    required property string label
    required property real spent
    required property real limit   // -1: no limit
    required property real usage   // spent / limit, -1 when there is no limit
    property bool editable: true

    signal limitChosen(real usd)

    readonly property bool hasLimit: row.limit >= 0
    readonly property real draggedUsd: Format.sliderToUsd(slider.value)

    // Up to four decimals, trailing zeros dropped: 0.015 stays 0.015 (it was rounded to 0.01, and
    // 0.001 to 0, a limit that refuses everything).
    function plainAmount(usd: real): string {
        return Number(usd.toFixed(4)).toString();
    }

    spacing: Theme.space4

    Label {
        Layout.preferredWidth: 52
        text: row.label
        font.pixelSize: Theme.fontBody
        font.weight: Font.Medium
        color: Theme.text
    }

    ColumnLayout {
        Layout.fillWidth: true
        Layout.preferredWidth: 240
        Layout.minimumWidth: 140
        spacing: 5

        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.space2

            Label {
                text: Money.usd(row.spent)
                font.pixelSize: Theme.fontBody
                font.weight: Font.DemiBold
                color: Theme.text
            }
            Caption {
                Layout.fillWidth: true
                text: slider.pressed ? qsTr("of %1").arg(Money.usd(row.draggedUsd))
                    : row.hasLimit && row.limit <= 0 ? qsTr("of %1: every request is refused").arg(Money.usd(0))
                    : row.hasLimit ? qsTr("of %1").arg(Money.usd(row.limit)) : qsTr("no limit")
                color: row.hasLimit && row.limit <= 0 && !slider.pressed ? Theme.danger : Theme.textMuted
                elide: Text.ElideRight
            }
            Label {
                visible: row.hasLimit
                text: Format.percent(row.usage)
                font.pixelSize: Theme.fontSmall
                font.weight: Font.Medium
                color: row.usage >= 0.8 ? Theme.usageColor(row.usage) : Theme.textMuted
            }
        }
        UsageBar {
            Layout.fillWidth: true
            fraction: slider.pressed ? (row.draggedUsd > 0 ? row.spent / row.draggedUsd : 0) : row.usage
            thresholds: row.hasLimit || slider.pressed
            tone: Theme.textFaint
        }
    }

    LogSlider {
        id: slider
        Layout.fillWidth: true
        Layout.preferredWidth: 220
        Layout.minimumWidth: 120
        enabled: row.editable
        value: row.hasLimit ? Format.usdToSlider(row.limit) : 1
        tone: row.hasLimit || slider.pressed ? Theme.accent : Theme.textFaint
        Accessible.name: qsTr("%1 limit").arg(row.label)
        ToolTip.visible: slider.pressed
        ToolTip.text: Money.usd(row.draggedUsd)
        onPressedChanged: {
            if (!slider.pressed)
                row.limitChosen(row.draggedUsd);
        }
        onMoved: {
            if (!slider.pressed) // keyboard
                row.limitChosen(row.draggedUsd);
        }
    }

    AppTextField {
        id: field
        objectName: "limit-" + row.label.toLowerCase()
        Layout.preferredWidth: 104
        enabled: row.editable
        leftPadding: Theme.space3 + dollar.implicitWidth + 2
        horizontalAlignment: TextInput.AlignRight
        placeholderText: qsTr("No limit")
        text: slider.pressed ? row.plainAmount(row.draggedUsd) : (row.hasLimit ? row.plainAmount(row.limit) : "")
        validator: RegularExpressionValidator {
            regularExpression: /^\d{0,7}([.,]\d{0,4})?$/
        }
        Accessible.name: qsTr("%1 limit in dollars").arg(row.label)
        onEditingFinished: {
            const typed = field.text.trim().replace(",", ".");
            if (typed.length === 0) {
                if (row.hasLimit)
                    row.limitChosen(-1);
                return;
            }
            const usd = Number(typed);
            if (!isNaN(usd) && (!row.hasLimit || Math.abs(usd - row.limit) >= 0.00005))
                row.limitChosen(usd);
        }

        Label {
            id: dollar
            anchors.left: parent.left
            anchors.leftMargin: Theme.space3
            anchors.verticalCenter: parent.verticalCenter
            text: "$"
            font.pixelSize: Theme.fontBody
            color: Theme.textFaint
        }
    }

    IconButton {
        iconName: "close"
        tip: qsTr("Remove the %1 limit").arg(row.label.toLowerCase())
        enabled: row.editable && row.hasLimit
        opacity: row.hasLimit ? 1 : 0
        onClicked: row.limitChosen(-1)
    }
}
