import QtQuick

// A thin horizontal bar for a fraction 0..1 (values above 1 fill it). Accent below 80%, amber from
// 80%, red from 100% when `thresholds` is on; otherwise `tone`.
Rectangle {
    id: bar

    property real fraction: 0
    property bool thresholds: true
    property color tone: Theme.accent

    implicitHeight: 6
    implicitWidth: 120
    radius: height / 2
    color: Theme.track

    Rectangle {
        height: parent.height
        radius: parent.radius
        width: bar.fraction <= 0 ? 0 : Math.max(bar.height, Math.min(1, bar.fraction) * bar.width)
        color: bar.thresholds ? Theme.usageColor(bar.fraction) : bar.tone

        Behavior on width {
            NumberAnimation {
                duration: Theme.animationNormal
                easing.type: Easing.OutCubic
            }
        }
    }
}
