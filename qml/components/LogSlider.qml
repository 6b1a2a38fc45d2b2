pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic

// A 0..1 slider in the window's style; LimitRow maps its position to dollars on a log scale.
Slider {
    id: control

    from: 0
    to: 1
    focusPolicy: Qt.StrongFocus
    implicitHeight: 24
    property color tone: Theme.accent

    background: Item {
        x: control.leftPadding
        y: control.topPadding + control.availableHeight / 2 - height / 2
        implicitWidth: 160
        implicitHeight: 4
        width: control.availableWidth
        height: 4

        Rectangle {
            anchors.fill: parent
            radius: 2
            color: Theme.track
        }
        Rectangle {
            width: control.visualPosition * parent.width
            height: parent.height
            radius: 2
            color: control.enabled ? control.tone : Theme.textFaint
        }
    }

    handle: Rectangle {
        x: control.leftPadding + control.visualPosition * (control.availableWidth - width)
        y: control.topPadding + control.availableHeight / 2 - height / 2
        implicitWidth: 16
        implicitHeight: 16
        radius: 8
        color: Theme.surface
        border.width: control.visualFocus ? 3 : 2
        border.color: control.enabled ? control.tone : Theme.textFaint
        scale: control.pressed ? 1.12 : 1.0

        // The keyboard focus ring: a thicker border alone was too subtle to notice.
        Rectangle {
            anchors.centerIn: parent
            width: parent.width + 8
            height: parent.height + 8
            radius: width / 2
            color: "transparent"
            border.width: 2
            border.color: Theme.withAlpha(Theme.accent, 0.6)
            visible: control.visualFocus
        }

        Behavior on scale {
            NumberAnimation {
                duration: Theme.animationFast
            }
        }
    }
}
