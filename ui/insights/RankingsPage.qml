pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// Every model used in a period, from the user's own traffic: cost, speed, reliability, cache use and
// Compare wins side by side, sortable by each column, with a trend per model; and where a cheaper
// model already wins as often in the user's own votes ("you could save").
PageBase {
    id: page

    // Fixed column widths; the model column takes the rest.
    readonly property int colTrend: 92
    readonly property int colRequests: 72
    readonly property int colSpend: 78
    readonly property int colPer1k: 78
    readonly property int colLatency: 62
    readonly property int colTps: 58
    readonly property int colRate: 60
    readonly property int colWins: 74
    readonly property bool compact: tableArea.width < 1080

    readonly property string periodText: rankings.period === "day" ? qsTr("the last 24 hours")
                                        : rankings.period === "week" ? qsTr("the last 7 days")
                                        : rankings.period === "month" ? qsTr("the last 30 days") : qsTr("all time")

    function rate(value: real): string {
        return value < 0 ? "—" : Format.percent(value);
    }
    function ms(value: real): string {
        return value < 0 ? "—" : Format.duration(value);
    }

    RankingsModel {
        id: rankings
        backend: page.backend
        period: periodSwitch.current
        keyId: keyBox.currentIndex > 0 ? keyBox.model[keyBox.currentIndex].keyId : -1
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.leftMargin: Theme.space6
        anchors.rightMargin: Theme.space6
        anchors.topMargin: Theme.space5
        anchors.bottomMargin: Theme.space5
        spacing: Theme.space4

        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Rankings")
            subtitle: rankings.count === 0 ? qsTr("How the models you use compare, from your own requests.")
                      : qsTr("%1 models, %2 requests and %3 over %4.")
                        .arg(rankings.count)
                        .arg(Number(rankings.totalRequests).toLocaleString(Qt.locale(), "f", 0))
                        .arg(Money.usd(rankings.totalSpend))
                        .arg(page.periodText)

            BusyIndicator {
                running: rankings.loading
                visible: rankings.loading
                implicitWidth: 24
                implicitHeight: 24
                padding: 0
            }
            AppComboBox {
                id: keyBox
                Layout.preferredWidth: 170
                model: [{ keyId: -1, name: qsTr("All keys") }].concat(rankings.keys)
                textRole: "name"
                Accessible.name: qsTr("Key")
            }
            Segmented {
                id: periodSwitch
                accessibleName: qsTr("Period")
                current: "week"
                options: [
                    { value: "day", label: qsTr("24 h") },
                    { value: "week", label: qsTr("7 days") },
                    { value: "month", label: qsTr("30 days") },
                    { value: "all", label: qsTr("All") }
                ]
            }
        }

        // You could save
        Rectangle {
            Layout.fillWidth: true
            visible: rankings.savings.length > 0
            implicitHeight: savingsColumn.implicitHeight + 2 * Theme.space4
            radius: Theme.radius
            color: Theme.okSoft
            border.color: Theme.withAlpha(Theme.ok, 0.35)

            ColumnLayout {
                id: savingsColumn
                anchors.fill: parent
                anchors.margins: Theme.space4
                spacing: Theme.space2

                RowLayout {
                    spacing: Theme.space2
                    Icon {
                        iconName: "sparkles"
                        color: Theme.ok
                    }
                    SectionTitle {
                        text: qsTr("You could save")
                    }
                }
                // Rows in a positioner (see TopSpendList: Quick Layouts and Repeater resets)
                Column {
                    Layout.fillWidth: true
                    spacing: Theme.space1
                    Repeater {
                        model: rankings.savings
                        delegate: Label {
                            id: saving
                            required property var modelData
                            width: parent ? parent.width : 0
                            wrapMode: Text.Wrap
                            textFormat: Text.StyledText
                            color: Theme.text
                            text: qsTr("<b>%1</b> instead of <b>%2</b> would have cost %3 instead of %4 over %5 (%6 less). "
                                       + "It won %7 of your %8 Compare rounds, %2 %9 of %10.")
                                  .arg(saving.modelData.alternative)
                                  .arg(saving.modelData.model)
                                  .arg(Money.usd(saving.modelData.alternativeCost))
                                  .arg(Money.usd(saving.modelData.spend))
                                  .arg(page.periodText)
                                  .arg(Money.usd(saving.modelData.saving))
                                  .arg(Format.percent(saving.modelData.alternativeWinRate))
                                  .arg(saving.modelData.alternativeRounds)
                                  .arg(Format.percent(saving.modelData.modelWinRate))
                                  .arg(saving.modelData.modelRounds)
                        }
                    }
                }
            }
        }

        // The table
        TableFrame {
            id: tableArea
            Layout.fillWidth: true
            Layout.fillHeight: true

            // Column headers: click to sort
            TableHeader {
                Layout.fillWidth: true
                implicitHeight: 38
                SortHeader { Layout.fillWidth: true; Layout.minimumWidth: 150; text: qsTr("Model"); sortKey: "model"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
                ColumnHeader { Layout.preferredWidth: page.colTrend; text: rankings.slices === 24 ? qsTr("Per hour") : qsTr("Per day") }
                SortHeader { Layout.preferredWidth: page.colRequests; text: qsTr("Requests"); alignment: Text.AlignRight; sortKey: "requests"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
                SortHeader { Layout.preferredWidth: page.colSpend; text: qsTr("Spend"); alignment: Text.AlignRight; sortKey: "spend"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
                SortHeader { Layout.preferredWidth: page.colPer1k; text: qsTr("%1 / 1k out").arg(Money.symbol); alignment: Text.AlignRight; sortKey: "costPer1kOutput"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
                SortHeader { Layout.preferredWidth: page.colLatency; text: qsTr("p50"); alignment: Text.AlignRight; sortKey: "p50Latency"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
                SortHeader { Layout.preferredWidth: page.colLatency; visible: !page.compact; text: qsTr("p95"); alignment: Text.AlignRight; sortKey: "p95Latency"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
                SortHeader { Layout.preferredWidth: page.colLatency; text: qsTr("TTFT"); alignment: Text.AlignRight; sortKey: "p50Ttft"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
                SortHeader { Layout.preferredWidth: page.colTps; text: qsTr("Tok/s"); alignment: Text.AlignRight; sortKey: "tokensPerSecond"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
                SortHeader { Layout.preferredWidth: page.colRate; text: qsTr("Errors"); alignment: Text.AlignRight; sortKey: "errorRate"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
                SortHeader { Layout.preferredWidth: page.colRate; visible: !page.compact; text: qsTr("Cache"); alignment: Text.AlignRight; sortKey: "cacheHitRate"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
                SortHeader { Layout.preferredWidth: page.colWins; text: qsTr("Wins"); alignment: Text.AlignRight; sortKey: "winRate"; sortBy: rankings.sortBy; descending: rankings.descending; onClicked: rankings.toggleSort(sortKey) }
            }

            ListView {
                id: table
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                model: rankings
                boundsBehavior: Flickable.StopAtBounds
                ScrollBar.vertical: ScrollBar {
                    policy: ScrollBar.AsNeeded
                }
                Accessible.role: Accessible.Table
                Accessible.name: qsTr("Models")

                delegate: Rectangle {
                    id: row
                    required property int index
                    required property string model
                    required property string provider
                    required property real requests
                    required property real spend
                    required property real costPer1kOutput
                    required property real p50Latency
                    required property real p95Latency
                    required property real p50Ttft
                    required property real tokensPerSecond
                    required property real errorRate
                    required property real cacheHitRate
                    required property int wins
                    required property int rounds
                    required property list<real> trend
                    required property real unpriced

                    width: ListView.view.width
                    implicitHeight: 52
                    color: rowMouse.containsMouse ? Theme.surfaceHover : "transparent"
                    Accessible.role: Accessible.Row
                    Accessible.name: row.model + " " + Money.usd(row.spend)

                    MouseArea {
                        id: rowMouse
                        anchors.fill: parent
                        hoverEnabled: true
                        acceptedButtons: Qt.NoButton
                    }
                    Rectangle {
                        anchors.bottom: parent.bottom
                        width: parent.width
                        height: 1
                        color: Theme.border
                        opacity: 0.6
                    }

                    RowLayout {
                        anchors.fill: parent
                        anchors.leftMargin: Theme.space4
                        anchors.rightMargin: Theme.space4
                        spacing: Theme.space3

                        ColumnLayout {
                            Layout.fillWidth: true
                            Layout.minimumWidth: 150
                            spacing: 1
                            Cell {
                                Layout.fillWidth: true
                                text: row.model
                                font.family: Theme.monoFamily
                                font.pixelSize: Theme.fontSmall
                                font.weight: Font.Medium
                            }
                            Caption {
                                Layout.fillWidth: true
                                text: row.provider
                                elide: Text.ElideRight
                            }
                        }
                        Sparkline {
                            Layout.preferredWidth: page.colTrend
                            Layout.preferredHeight: 26
                            values: row.trend
                            color: Theme.seriesColor(row.index)
                        }
                        Cell {
                            Layout.preferredWidth: page.colRequests
                            horizontalAlignment: Text.AlignRight
                            text: Number(row.requests).toLocaleString(Qt.locale(), "f", 0)
                        }
                        Cell {
                            Layout.preferredWidth: page.colSpend
                            horizontalAlignment: Text.AlignRight
                            text: row.spend === 0 && row.unpriced > 0 ? qsTr("unpriced") : Money.usd(row.spend)
                            color: row.spend === 0 && row.unpriced > 0 ? Theme.textFaint : Theme.text
                            font.weight: Font.Medium
                        }
                        Cell {
                            Layout.preferredWidth: page.colPer1k
                            horizontalAlignment: Text.AlignRight
                            text: row.costPer1kOutput < 0 ? "—" : Money.usd(row.costPer1kOutput)
                            color: Theme.textMuted
                        }
                        Cell {
                            Layout.preferredWidth: page.colLatency
                            horizontalAlignment: Text.AlignRight
                            text: page.ms(row.p50Latency)
                        }
                        Cell {
                            Layout.preferredWidth: page.colLatency
                            visible: !page.compact
                            horizontalAlignment: Text.AlignRight
                            text: page.ms(row.p95Latency)
                            color: Theme.textMuted
                        }
                        Cell {
                            Layout.preferredWidth: page.colLatency
                            horizontalAlignment: Text.AlignRight
                            text: page.ms(row.p50Ttft)
                            color: Theme.textMuted
                        }
                        Cell {
                            Layout.preferredWidth: page.colTps
                            horizontalAlignment: Text.AlignRight
                            text: row.tokensPerSecond < 0 ? "—" : Math.round(row.tokensPerSecond)
                        }
                        Cell {
                            Layout.preferredWidth: page.colRate
                            horizontalAlignment: Text.AlignRight
                            text: page.rate(row.errorRate)
                            color: row.errorRate >= 0.05 ? Theme.danger : row.errorRate >= 0.02 ? Theme.warning : Theme.textMuted
                        }
                        Cell {
                            Layout.preferredWidth: page.colRate
                            visible: !page.compact
                            horizontalAlignment: Text.AlignRight
                            text: page.rate(row.cacheHitRate)
                            color: Theme.textMuted
                        }
                        Cell {
                            Layout.preferredWidth: page.colWins
                            horizontalAlignment: Text.AlignRight
                            text: row.rounds > 0 ? qsTr("%1 / %2").arg(row.wins).arg(row.rounds) : "—"
                            color: row.rounds > 0 ? Theme.text : Theme.textFaint
                        }
                    }
                }

                EmptyState {
                    anchors.centerIn: parent
                    width: Math.min(parent.width - 2 * Theme.space5, 460)
                    visible: table.count === 0 && rankings.ready
                    iconName: "trophy"
                    title: qsTr("No model answered in this period")
                    text: qsTr("Models show up here once requests through %1 reach them. Compare votes add their wins.").arg(App.baseUrl)
                }
            }
        }

        Caption {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            text: qsTr("Latency and TTFT are medians (p50) and p95 of successful requests, estimated within 9% from log-spaced buckets. "
                       + "TTFT: time to the first generated token of streamed answers, as Compare measures it (a non-streamed answer has none). "
                       + "Tok/s: output tokens per second after the first token, over streamed answers. Errors: share of the requests "
                       + "sent to the model that failed (cancelled ones left out). Cache: prompt tokens read from the provider's cache. "
                       + "Wins: Compare rounds won / rounds shown in.")
        }
    }
}
