pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic

// A target's live health as a dot: green healthy, amber degraded (errors or a half-open circuit),
// red down (circuit open or rate limited), grey no traffic yet. The tooltip says why; keyboard
// users reach it with Tab when `focusable`.
Item {
    id: dot

    property string health: "unknown" // "healthy" | "degraded" | "down" | "unknown"
    property string tip: ""
    property int size: 8
    property bool focusable: false

    readonly property color tone: dot.health === "healthy" ? Theme.ok
        : dot.health === "degraded" ? Theme.warning
        : dot.health === "down" ? Theme.danger
        : Theme.textFaint
    readonly property string label: dot.health === "healthy" ? qsTr("Healthy")
        : dot.health === "degraded" ? qsTr("Degraded")
        : dot.health === "down" ? qsTr("Down")
        : qsTr("No traffic yet")

    implicitWidth: dot.size + 6
    implicitHeight: dot.size + 6
    activeFocusOnTab: dot.focusable
    Accessible.role: Accessible.Indicator
    Accessible.name: dot.tip.length > 0 ? dot.tip : dot.label

    // A soft halo, so a red or amber dot reads at a glance.
    Rectangle {
        anchors.centerIn: parent
        width: dot.size + 6
        height: dot.size + 6
        radius: width / 2
        color: Theme.withAlpha(dot.tone, dot.health === "unknown" ? 0 : 0.18)
        border.width: dot.activeFocus ? 2 : 0
        border.color: Theme.accent
    }
    Rectangle {
        anchors.centerIn: parent
        width: dot.size
        height: dot.size
        radius: width / 2
        color: dot.tone
    }

    HoverHandler {
        id: hover
    }
    ToolTip.visible: hover.hovered || dot.activeFocus
    ToolTip.delay: 300
    ToolTip.text: dot.tip.length > 0 ? dot.tip : dot.label
}
