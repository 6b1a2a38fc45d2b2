pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic

// An on/off switch in the window's style.
Switch {
    id: control

    focusPolicy: Qt.StrongFocus
    padding: 0
    spacing: Theme.space2

    indicator: Rectangle {
        implicitWidth: 36
        implicitHeight: 20
        x: control.text.length > 0 ? control.leftPadding : (control.width - width) / 2
        y: (control.height - height) / 2
        radius: 10
        color: control.checked ? (control.enabled ? Theme.accent : Theme.textFaint) : Theme.track
        border.width: control.visualFocus ? 2 : 0
        border.color: Theme.withAlpha(Theme.accent, 0.5)

        Rectangle {
            x: control.checked ? parent.width - width - 2 : 2
            y: 2
            width: 16
            height: 16
            radius: 8
            color: "#ffffff"
            border.color: Theme.withAlpha("#000000", 0.08)

            Behavior on x {
                NumberAnimation {
                    duration: Theme.animationFast
                }
            }
        }
    }

    contentItem: Text {
        leftPadding: control.text.length > 0 ? control.indicator.width + control.spacing : 0
        text: control.text
        font: control.font
        color: Theme.text
        verticalAlignment: Text.AlignVCenter
    }
}
