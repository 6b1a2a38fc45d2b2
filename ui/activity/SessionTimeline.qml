pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import QtCharts
import Gatehouse

// One session's requests as a timeline: what it spent, how long it ran, how many requests and how
// many failed; the cost accumulating along it (a step line over minutes since its first request);
// and its requests in order, each with the running total. Activity's table below shows the same
// requests, filtered to the session, for their details.
Card {
    id: timeline

    required property Backend backend
    required property string session

    signal closed()
    signal requestPicked(string requestId)

    spacing: Theme.space2
    padding: Theme.space4

    SessionTimelineModel {
        id: steps
        backend: timeline.backend
        session: timeline.session
        onChanged: timeline.redraw()
    }
    Connections {
        target: Format
        function onCurrencyChanged() {
            timeline.redraw();
        }
    }

    readonly property real minutes: Math.max(1, (steps.lastAt - steps.firstAt) / 60000)

    function redraw() {
        steps.fillCumulative(costLine);
        costX.max = chart.niceCeiling(timeline.minutes);
        costY.max = chart.niceCeiling(Math.max(steps.totalCost * Format.currencyRate, 0.0001));
    }

    RowLayout {
        Layout.fillWidth: true
        spacing: Theme.space3

        Icon {
            iconName: "activity"
            size: 16
            color: Theme.accent
        }
        Label {
            objectName: "sessionTimelineTitle"
            Layout.fillWidth: true
            elide: Text.ElideMiddle
            text: qsTr("Session %1").arg(timeline.session)
            font.family: Theme.monoFamily
            font.pixelSize: Theme.fontBody
            font.weight: Font.DemiBold
            color: Theme.text
        }
        Caption {
            objectName: "sessionTimelineSummary"
            text: {
                const requests = steps.count === 1 ? qsTr("1 request") : qsTr("%1 requests").arg(Number(steps.count).toLocaleString(Qt.locale(), "f", 0));
                const failed = steps.failed > 0 ? qsTr(", %1 failed").arg(steps.failed) : "";
                return qsTr("%1%2 · %3 · %4%5").arg(requests).arg(failed).arg(Format.duration(steps.lastAt - steps.firstAt))
                    .arg(Format.usd(steps.totalCost)).arg(steps.unpriced > 0 ? "*" : "");
            }
            ToolTip.visible: steps.unpriced > 0 && summaryHover.hovered
            ToolTip.text: qsTr("%1 of its requests had no price").arg(steps.unpriced)
            HoverHandler {
                id: summaryHover
            }
        }
        IconButton {
            objectName: "sessionTimelineClose"
            iconName: "close"
            tip: qsTr("Close the session")
            onClicked: timeline.closed()
        }
    }

    RowLayout {
        Layout.fillWidth: true
        Layout.fillHeight: true
        spacing: Theme.space3

        ThemedChart {
            id: chart
            objectName: "sessionCostChart"
            localizeTicks: true
            Layout.fillHeight: true
            Layout.minimumWidth: 240
            Accessible.name: qsTr("Cost accumulating along the session")

            ChartValueAxis {
                id: costX
                max: 1
                labelFormat: chart.tickFormat(costX.max) + " min"
                gridVisible: false
            }
            ChartValueAxis {
                id: costY
                max: 1
                labelFormat: Format.currencySymbol + chart.tickFormat(costY.max)
            }
            LineSeries {
                id: costLine
                axisX: costX
                axisY: costY
                color: Theme.accent
                width: 2
            }
        }

        ListView {
            id: list
            objectName: "sessionSteps"
            Layout.preferredWidth: 300
            Layout.fillHeight: true
            clip: true
            model: steps
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar {}
            delegate: ItemDelegate {
                id: step
                required property string requestId
                required property real startedAt
                required property string modelName
                required property bool ok
                required property bool priced
                required property real cost
                required property real cumulative
                width: ListView.view.width
                padding: 0
                leftPadding: Theme.space1
                rightPadding: Theme.space2
                height: 22
                hoverEnabled: true
                background: Rectangle {
                    color: step.hovered ? Theme.surfaceHover : "transparent"
                }
                onClicked: timeline.requestPicked(step.requestId)
                contentItem: RowLayout {
                    spacing: Theme.space2
                    Caption {
                        text: Qt.formatTime(new Date(step.startedAt), "HH:mm:ss")
                        font.family: Theme.monoFamily
                    }
                    Caption {
                        Layout.fillWidth: true
                        elide: Text.ElideRight
                        text: step.modelName
                        color: step.ok ? Theme.textMuted : Theme.danger
                    }
                    Caption {
                        text: step.priced ? "+" + Format.usd(step.cost) : qsTr("no price")
                    }
                    Label {
                        Layout.preferredWidth: 64
                        horizontalAlignment: Text.AlignRight
                        text: Format.usd(step.cumulative)
                        font.pixelSize: Theme.fontSmall
                        color: Theme.text
                    }
                }
            }
        }
    }

    Caption {
        visible: steps.truncated
        text: qsTr("Its first %1 requests are shown.").arg(Number(5000).toLocaleString(Qt.locale(), "f", 0))
    }
}
