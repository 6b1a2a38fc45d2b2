pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import QtCharts

// A chart in the window's style: drawn straight on its card (transparent, square, no legend of its
// own, no animation, no margins but 4 px above for the top tick label). Axes styled to match are
// ChartValueAxis and ChartCategoryAxis.
ChartView {
    id: chart

    // Tick labels through the locale: without it Qt Charts formats labelFormat with a Latin-1
    // printf, and the euro sign of the axis became "?" ("?0.04"). A currency prefix is kept as text
    // in labelFormat; the numbers use en_US, as Format's do everywhere else.
    property bool localizeTicks: false

    // The smallest "nice" axis maximum >= value whose four intervals are round numbers
    // (4 × {1, 2, 2.5, 5, 10} × 10^n).
    function niceCeiling(value: real): real {
        const step = value / 4;
        const magnitude = Math.pow(10, Math.floor(Math.log10(step)));
        for (const f of [1, 2, 2.5, 5, 10]) {
            if (f * magnitude >= step - 1e-12)
                return 4 * f * magnitude;
        }
        return value;
    }
    // printf format for the tick labels of an axis from 0 to max in four steps.
    function tickFormat(max: real): string {
        const step = max / 4;
        for (let decimals = 0; decimals < 4; ++decimals) {
            const scaled = step * Math.pow(10, decimals);
            if (Math.abs(scaled - Math.round(scaled)) < 1e-6)
                return "%." + decimals + "f";
        }
        return "%.4f";
    }

    localizeNumbers: chart.localizeTicks
    locale: chart.localizeTicks ? Qt.locale("en_US") : Qt.locale()
    // Wider than its card's content by the axis labels' inset on the left, so the plot lines up.
    Layout.fillWidth: true
    Layout.leftMargin: -Theme.space3
    // A tooltip that follows the pointer, for a series' hovered signal.
    function showTip(text: string) {
        tip.text = text;
        tip.open();
    }
    function hideTip() {
        tip.close();
    }

    antialiasing: true
    backgroundColor: "transparent"
    plotAreaColor: "transparent"
    backgroundRoundness: 0
    legend.visible: false
    animationOptions: ChartView.NoAnimation
    margins.left: 0
    margins.right: 0
    margins.top: 4
    margins.bottom: 0

    MouseArea {
        id: hover
        anchors.fill: parent
        hoverEnabled: true
        acceptedButtons: Qt.NoButton
    }
    ToolTip {
        id: tip
        x: hover.mouseX + 12
        y: hover.mouseY - height - 8
    }
}
