pragma ComponentBehavior: Bound

import QtQuick

// A small trend: one thin column per value (oldest first), scaled from 0 to the largest value; the
// latest column in full color, the others lighter; a hairline base. Empty slices stay at the base.
Item {
    id: spark

    property list<real> values
    property color color: Theme.accent
    readonly property real maximum: {
        let max = 0;
        for (let i = 0; i < spark.values.length; ++i)
            max = Math.max(max, spark.values[i]);
        return max;
    }
    readonly property real step: spark.values.length > 0 ? spark.width / spark.values.length : 0

    implicitWidth: 96
    implicitHeight: 24
    Accessible.role: Accessible.Graphic

    Rectangle {
        anchors.bottom: parent.bottom
        width: parent.width
        height: 1
        color: Theme.border
    }

    // Columns in a positioner (see TopSpendList: Quick Layouts and Repeater resets)
    Row {
        anchors.bottom: parent.bottom
        Repeater {
            model: spark.values.length
            delegate: Item {
                id: slot
                required property int index
                readonly property real value: spark.values[slot.index] ?? 0
                width: spark.step
                height: spark.height
                Rectangle {
                    anchors.bottom: parent.bottom
                    anchors.horizontalCenter: parent.horizontalCenter
                    width: Math.max(1, slot.width - (slot.width > 3 ? 1 : 0))
                    height: spark.maximum > 0 && slot.value > 0 ? Math.max(2, slot.value / spark.maximum * spark.height) : 0
                    radius: Math.min(1, width / 2)
                    color: slot.index === spark.values.length - 1 ? spark.color : Theme.withAlpha(spark.color, 0.45)
                }
            }
        }
    }
}
