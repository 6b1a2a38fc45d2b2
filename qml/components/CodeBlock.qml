pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import Gatehouse

// Read-only monospaced text (a secret, a snippet) with a copy button.
Rectangle {
    id: block

    property string text: ""
    property string copyTip: qsTr("Copy to clipboard")
    signal copied()

    implicitHeight: Math.max(40, code.implicitHeight + 2 * Theme.space3)
    implicitWidth: 320
    radius: Theme.radiusSmall
    color: Theme.surfaceAlt
    border.color: Theme.border

    TextEdit {
        id: code
        anchors.left: parent.left
        anchors.right: copyButton.left
        anchors.verticalCenter: parent.verticalCenter
        anchors.leftMargin: Theme.space3
        anchors.rightMargin: Theme.space2
        text: block.text
        readOnly: true
        selectByMouse: true
        wrapMode: TextEdit.WrapAnywhere
        font.family: Theme.monoFamily
        font.pixelSize: Theme.fontSmall
        color: Theme.text
        selectionColor: Theme.accent
        selectedTextColor: Theme.textOnAccent
        Accessible.role: Accessible.StaticText
        Accessible.name: block.text
    }
    IconButton {
        id: copyButton
        anchors.right: parent.right
        anchors.top: parent.top
        anchors.margins: 4
        iconName: "copy"
        tip: block.copyTip
        onClicked: {
            App.copyToClipboard(block.text);
            block.copied();
        }
    }
}
