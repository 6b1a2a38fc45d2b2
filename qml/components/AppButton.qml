pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Controls.impl

// A push button in one of four variants: "primary", "secondary", "ghost", "danger".
Button {
    id: control

    property string variant: "secondary"
    readonly property bool primary: control.variant === "primary"
    readonly property bool danger: control.variant === "danger"
    readonly property bool ghost: control.variant === "ghost"

    implicitHeight: Theme.controlHeight
    leftPadding: control.text.length > 0 ? Theme.space3 + 2 : Theme.space2
    rightPadding: control.text.length > 0 ? Theme.space3 + 2 : Theme.space2
    topPadding: 0
    bottomPadding: 0
    spacing: Theme.space2
    font.pixelSize: Theme.fontBody
    font.weight: Font.Medium
    icon.width: 16
    icon.height: 16
    icon.color: foreground
    focusPolicy: Qt.StrongFocus
    Accessible.name: control.text

    readonly property color foreground: !control.enabled ? Theme.textFaint
        : control.primary ? Theme.textOnAccent
        : control.danger ? Theme.danger
        : Theme.text

    contentItem: IconLabel {
        spacing: control.spacing
        mirrored: control.mirrored
        display: control.display
        icon: control.icon
        text: control.text
        font: control.font
        color: control.foreground
    }

    background: Rectangle {
        implicitWidth: 32
        implicitHeight: Theme.controlHeight
        radius: Theme.radiusSmall
        color: {
            if (control.primary) {
                if (!control.enabled)
                    return Theme.surfaceAlt;
                return control.down ? Qt.darker(Theme.accent, 1.15) : control.hovered ? Theme.accentHover : Theme.accent;
            }
            if (control.danger)
                return control.down || control.hovered ? Theme.dangerSoft : (control.ghost ? "transparent" : Theme.surface);
            if (control.ghost)
                return control.down ? Theme.border : control.hovered ? Theme.surfaceHover : "transparent";
            return control.down ? Theme.border : control.hovered ? Theme.surfaceHover : Theme.surface;
        }
        border.width: control.visualFocus ? 2 : (control.ghost || (control.primary && control.enabled) ? 0 : 1)
        border.color: control.visualFocus ? Theme.accent : control.danger ? Theme.withAlpha(Theme.danger, 0.45) : Theme.borderStrong

        Behavior on color {
            ColorAnimation {
                duration: Theme.animationFast
            }
        }

        // The keyboard focus ring, outside the button: an accent border on an accent (primary)
        // button could not be seen.
        Rectangle {
            anchors.fill: parent
            anchors.margins: -3
            radius: Theme.radiusSmall + 3
            color: "transparent"
            border.width: 2
            border.color: Theme.accent
            visible: control.visualFocus && control.primary
        }
    }
}
