pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import Gatehouse

// A fenced code block of an answer: its language, the code (scrolls sideways, never wraps) and a
// copy button.
Rectangle {
    id: block

    property string code: ""
    property string language: ""
    signal copied()

    implicitHeight: header.height + flick.height
    radius: Theme.radiusSmall
    color: Theme.surfaceAlt
    border.color: Theme.border

    Item {
        id: header
        width: parent.width
        height: 28

        Label {
            anchors.left: parent.left
            anchors.leftMargin: Theme.space3
            anchors.verticalCenter: parent.verticalCenter
            text: block.language.length > 0 ? block.language : qsTr("code")
            font.pixelSize: Theme.fontCaption
            color: Theme.textFaint
        }
        IconButton {
            anchors.right: parent.right
            anchors.rightMargin: 2
            anchors.verticalCenter: parent.verticalCenter
            implicitHeight: 26
            implicitWidth: 26
            iconName: "copy"
            tip: qsTr("Copy the code")
            onClicked: {
                App.copyToClipboard(block.code);
                block.copied();
            }
        }
    }
    Flickable {
        id: flick
        anchors.top: header.bottom
        x: Theme.space3
        width: block.width - 2 * Theme.space3
        height: code.implicitHeight + Theme.space3
        contentWidth: code.implicitWidth
        contentHeight: code.implicitHeight
        flickableDirection: Flickable.HorizontalFlick
        boundsBehavior: Flickable.StopAtBounds
        clip: true
        ScrollBar.horizontal: ScrollBar {
            policy: flick.contentWidth > flick.width ? ScrollBar.AsNeeded : ScrollBar.AlwaysOff
        }

        TextEdit {
            id: code
            text: block.code
            readOnly: true
            selectByMouse: true
            font.family: Theme.monoFamily
            font.pixelSize: Theme.fontSmall
            color: Theme.text
            selectionColor: Theme.accent
            selectedTextColor: Theme.textOnAccent
        }
    }
}
