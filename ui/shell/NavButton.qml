pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// One entry of the navigation rail: an icon over a short label; checked when its page is shown.
AbstractButton {
    id: control

    required property string iconName
    property string shortcutText: ""

    checkable: true
    autoExclusive: true
    focusPolicy: Qt.StrongFocus
    implicitWidth: 76
    implicitHeight: 60
    Accessible.role: Accessible.PageTab
    Accessible.name: control.text
    ToolTip.visible: control.hovered && control.shortcutText.length > 0
    ToolTip.delay: 700
    ToolTip.text: control.text + "  (" + control.shortcutText + ")"

    background: Rectangle {
        radius: Theme.radius
        color: control.checked ? Theme.accentSoft : control.hovered ? Theme.surfaceHover : "transparent"
        border.width: control.visualFocus ? 2 : 0
        border.color: Theme.accent
    }

    contentItem: ColumnLayout {
        spacing: Theme.space1

        Icon {
            Layout.alignment: Qt.AlignHCenter
            iconName: control.iconName
            size: 20
            color: control.checked ? Theme.accent : Theme.textMuted
        }
        Label {
            Layout.alignment: Qt.AlignHCenter
            text: control.text
            font.pixelSize: Theme.fontCaption
            font.weight: control.checked ? Font.DemiBold : Font.Normal
            color: control.checked ? Theme.accent : Theme.textMuted
        }
    }
}
