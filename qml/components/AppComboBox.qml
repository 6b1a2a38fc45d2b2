pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Controls.impl

// A combo box in the window's style.
ComboBox {
    id: control

    implicitHeight: Theme.controlHeight
    leftPadding: Theme.space3
    rightPadding: Theme.space3 + 16
    font.pixelSize: Theme.fontBody
    focusPolicy: Qt.StrongFocus

    indicator: IconImage {
        x: control.width - width - Theme.space3 + 4
        y: (control.height - height) / 2
        width: 12
        height: 12
        sourceSize.width: 12
        sourceSize.height: 12
        source: Theme.icon("chevron-down")
        color: Theme.textMuted
    }

    contentItem: Text {
        text: control.displayText
        font: control.font
        color: control.enabled ? Theme.text : Theme.textFaint
        verticalAlignment: Text.AlignVCenter
        elide: Text.ElideRight
    }

    background: Rectangle {
        implicitWidth: 150
        implicitHeight: Theme.controlHeight
        radius: Theme.radiusSmall
        color: control.down ? Theme.surfaceHover : Theme.inputBackground
        border.width: control.visualFocus ? 2 : 1
        border.color: control.visualFocus ? Theme.accent : control.hovered ? Theme.textFaint : Theme.borderStrong
    }

    // The Basic style's delegate draws a highlighted item with the platform palette (highlightedText
    // on light), which is white on white under some desktop palettes: the current or hovered item
    // came out blank. Every color here comes from Theme instead.
    delegate: ItemDelegate {
        id: item

        required property int index

        width: ListView.view ? ListView.view.width : implicitWidth
        implicitHeight: Theme.controlHeight
        leftPadding: Theme.space3
        rightPadding: Theme.space3
        highlighted: control.highlightedIndex === item.index
        hoverEnabled: control.hoverEnabled
        text: control.textAt(item.index)
        font.pixelSize: Theme.fontBody
        font.weight: control.currentIndex === item.index ? Font.DemiBold : Font.Normal

        contentItem: Text {
            text: item.text
            font: item.font
            color: item.highlighted ? Theme.accent : Theme.text
            verticalAlignment: Text.AlignVCenter
            elide: Text.ElideRight
        }
        background: Rectangle {
            color: item.down ? Theme.accentSoft : item.highlighted || item.hovered ? Theme.surfaceHover : "transparent"
            radius: Theme.radiusSmall - 2
        }
    }

    popup.background: Rectangle {
        color: Theme.surface
        radius: Theme.radiusSmall
        border.color: Theme.border
    }
}
