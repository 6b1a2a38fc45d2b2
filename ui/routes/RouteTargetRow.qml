pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// One target in the route editor: a drag handle (Up/Down when it has focus), its place, its live
// health, the model id, a weight slider for weighted routes and a remove button.
Rectangle {
    id: row

    property int dragIndex: 0
    property string modelId: ""
    property int weight: 1
    property bool weighted: false
    property int weightTotal: 0
    property int position: 0
    property int count: 1
    property string health: "unknown"
    property string healthTip: ""
    property string problem: ""
    readonly property bool dragging: handleArea.drag.active

    signal moveRequested(int to)
    signal removeRequested()
    signal weightMoved(int value)

    radius: Theme.radiusSmall
    color: row.dragging ? Theme.surfaceHover : Theme.surfaceAlt
    border.color: row.problem.length > 0 ? Theme.withAlpha(Theme.danger, 0.6) : row.dragging ? Theme.accent : Theme.border
    z: row.dragging ? 10 : 0

    Drag.active: row.dragging
    Drag.source: row
    Drag.hotSpot.x: row.width / 2
    Drag.hotSpot.y: row.height / 2

    RowLayout {
        anchors.fill: parent
        anchors.leftMargin: Theme.space1
        anchors.rightMargin: Theme.space1
        spacing: Theme.space2

        // The drag handle
        Item {
            id: handle
            implicitWidth: 24
            implicitHeight: 32
            activeFocusOnTab: true
            Accessible.role: Accessible.Button
            Accessible.name: qsTr("Move %1: press Up or Down").arg(row.modelId)
            Keys.onUpPressed: row.moveRequested(row.position - 1)
            Keys.onDownPressed: row.moveRequested(row.position + 1)
            ToolTip.visible: handleHover.hovered && !row.dragging
            ToolTip.delay: 600
            ToolTip.text: qsTr("Drag to reorder (or focus and press ↑ ↓)")

            Rectangle {
                anchors.fill: parent
                radius: Theme.radiusSmall - 2
                color: handleArea.pressed || handleHover.hovered ? Theme.border : "transparent"
                border.width: handle.activeFocus ? 2 : 0
                border.color: Theme.accent
            }
            Grid {
                anchors.centerIn: parent
                columns: 2
                spacing: 3
                Repeater {
                    model: 6
                    delegate: Rectangle {
                        width: 3
                        height: 3
                        radius: 1.5
                        color: Theme.textFaint
                    }
                }
            }
            HoverHandler {
                id: handleHover
                cursorShape: Qt.OpenHandCursor
            }
            MouseArea {
                id: handleArea
                anchors.fill: parent
                drag.target: row
                drag.axis: Drag.YAxis
                cursorShape: row.dragging ? Qt.ClosedHandCursor : Qt.OpenHandCursor
                onPressed: handle.forceActiveFocus()
            }
        }

        Label {
            Layout.preferredWidth: 16
            text: (row.position + 1) + "."
            horizontalAlignment: Text.AlignRight
            font.pixelSize: Theme.fontSmall
            color: Theme.textFaint
        }
        HealthDot {
            health: row.health
            tip: row.healthTip
        }
        Label {
            Layout.fillWidth: true
            text: row.modelId
            font.family: Theme.monoFamily
            font.pixelSize: Theme.fontBody
            color: row.problem.length > 0 ? Theme.danger : Theme.text
            elide: Text.ElideMiddle
            ToolTip.visible: row.problem.length > 0 && labelHover.hovered
            ToolTip.text: row.problem
            HoverHandler {
                id: labelHover
            }
        }
        LogSlider {
            id: weightSlider
            visible: row.weighted
            Layout.preferredWidth: 150
            from: 0
            to: 100
            stepSize: 1
            snapMode: Slider.SnapAlways
            value: Math.min(100, row.weight)
            Accessible.name: qsTr("Weight of %1").arg(row.modelId)
            onMoved: row.weightMoved(Math.round(weightSlider.value))
        }
        Label {
            visible: row.weighted
            Layout.preferredWidth: 64
            text: row.weightTotal > 0 ? qsTr("%1 · %2%").arg(row.weight).arg(Math.round(100 * Math.max(0, row.weight) / row.weightTotal))
                                      : qsTr("%1 · 0%").arg(row.weight)
            horizontalAlignment: Text.AlignRight
            font.pixelSize: Theme.fontSmall
            color: Theme.textMuted
        }
        IconButton {
            implicitWidth: 28
            implicitHeight: 28
            iconName: "close"
            tip: qsTr("Remove %1").arg(row.modelId)
            onClicked: row.removeRequested()
        }
    }
}
