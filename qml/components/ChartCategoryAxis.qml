import QtQuick
import QtCharts

// A category axis in the window's style (ThemedChart): faint caption-size labels on the values,
// the axis line in the border colour, no grid.
CategoryAxis {
    // A bar chart's axis: one category per bar, bars 0 … bars - 1 centred on their values.
    property int bars: 0

    min: -0.5
    max: Math.max(0, bars - 1) + 0.5
    labelsPosition: CategoryAxis.AxisLabelsPositionOnValue
    labelsColor: Theme.textFaint
    labelsFont.pixelSize: Theme.fontCaption
    labelsFont.family: Theme.fontFamily
    gridVisible: false
    color: Theme.border
}
