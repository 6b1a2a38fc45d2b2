import QtQuick
import QtCharts

// A value axis in the window's style (ThemedChart): faint caption-size labels, grid lines in the
// border colour, no axis line, five ticks.
ValueAxis {
    min: 0
    tickCount: 5
    labelsColor: Theme.textFaint
    labelsFont.pixelSize: Theme.fontCaption
    labelsFont.family: Theme.fontFamily
    gridLineColor: Theme.border
    lineVisible: false
}
