pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic

// A square icon-only button. `tip` is required: it is the tooltip and the accessible name.
AppButton {
    id: control

    required property string iconName
    required property string tip

    variant: "ghost"
    display: AbstractButton.IconOnly
    icon.source: Theme.icon(control.iconName)
    implicitWidth: Theme.controlHeight
    leftPadding: 0
    rightPadding: 0
    Accessible.name: control.tip
    ToolTip.visible: control.tip.length > 0 && (control.hovered || control.visualFocus)
    ToolTip.delay: 500
    ToolTip.text: control.tip
}
