pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic

// A text field in the window's style.
TextField {
    id: control

    implicitHeight: Theme.controlHeight
    leftPadding: Theme.space3
    rightPadding: Theme.space3
    topPadding: 0
    bottomPadding: 0
    verticalAlignment: TextInput.AlignVCenter
    font.pixelSize: Theme.fontBody
    color: Theme.text
    placeholderTextColor: Theme.textFaint
    selectionColor: Theme.accent
    selectedTextColor: Theme.textOnAccent
    selectByMouse: true
    Accessible.name: control.placeholderText

    background: Rectangle {
        implicitWidth: 160
        implicitHeight: Theme.controlHeight
        radius: Theme.radiusSmall
        color: control.enabled ? Theme.inputBackground : Theme.surfaceAlt
        border.width: control.activeFocus ? 2 : 1
        border.color: !control.acceptableInput ? Theme.danger : control.activeFocus ? Theme.accent : control.hovered ? Theme.textFaint : Theme.borderStrong
    }
}
