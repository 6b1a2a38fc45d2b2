pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// A current value that also picks what the live chart shows.
AbstractButton {
    id: control

    required property string label
    required property string value

    checkable: true
    focusPolicy: Qt.StrongFocus
    leftPadding: Theme.space3
    rightPadding: Theme.space3
    topPadding: Theme.space2
    bottomPadding: Theme.space2
    implicitWidth: Math.max(120, implicitContentWidth + leftPadding + rightPadding)
    implicitHeight: implicitContentHeight + topPadding + bottomPadding
    Accessible.name: control.label + " " + control.value
    ToolTip.visible: control.hovered && !control.checked
    ToolTip.delay: 700
    ToolTip.text: qsTr("Show %1 in the chart").arg(control.label.toLowerCase())

    background: Rectangle {
        radius: Theme.radiusSmall
        color: control.checked ? Theme.accentSoft : control.hovered ? Theme.surfaceHover : "transparent"
        border.width: control.visualFocus ? 2 : 1
        border.color: control.visualFocus || control.checked ? Theme.accent : Theme.border
    }
    contentItem: ColumnLayout {
        spacing: 0
        Label {
            text: control.label
            font.pixelSize: Theme.fontCaption
            color: control.checked ? Theme.accent : Theme.textMuted
        }
        Label {
            text: control.value
            font.pixelSize: Theme.fontTitle + 1
            font.weight: Font.DemiBold
            color: Theme.text
        }
    }
}
