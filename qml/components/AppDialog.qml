pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import QtQuick.Templates as T

// A modal dialog in the window's style: a title, the content, buttons in the footer.
Dialog {
    id: dialog

    property string acceptText: qsTr("OK")
    property string acceptVariant: "primary"
    property bool acceptEnabled: true
    property bool showCancel: true
    property string cancelText: qsTr("Cancel")

    modal: true
    anchors.centerIn: T.Overlay.overlay
    width: Math.min(520, parent ? parent.width - 2 * Theme.space6 : 520)
    padding: Theme.space5
    topPadding: Theme.space3
    focus: true
    closePolicy: Popup.CloseOnEscape

    background: Rectangle {
        color: Theme.surface
        radius: Theme.radius + 2
        border.color: Theme.border
    }

    header: Label {
        text: dialog.title
        topPadding: Theme.space5
        leftPadding: Theme.space5
        rightPadding: Theme.space5
        font.pixelSize: Theme.fontTitle + 2
        font.weight: Font.DemiBold
        color: Theme.text
        elide: Text.ElideRight
    }

    footer: Item {
        implicitHeight: footerRow.implicitHeight + Theme.space5
        RowLayout {
            id: footerRow
            anchors.right: parent.right
            anchors.top: parent.top
            anchors.rightMargin: Theme.space5
            spacing: Theme.space2

            AppButton {
                visible: dialog.showCancel
                text: dialog.cancelText
                onClicked: dialog.reject()
            }
            AppButton {
                text: dialog.acceptText
                variant: dialog.acceptVariant
                enabled: dialog.acceptEnabled
                onClicked: dialog.accept()
            }
        }
    }
}
