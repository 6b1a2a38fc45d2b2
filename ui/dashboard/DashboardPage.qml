pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Dialogs
import QtQuick.Layouts
import QtCharts
import Gatehouse

// Spend today / this week / this month, the live traffic of the last 15 minutes, spend per day for
// 30 days stacked by provider, and the top keys and models. A new user sees what to do first.
PageBase {
    id: page


    SpendSummary {
        id: summary
        backend: page.backend
    }
    SpendByDayModel {
        id: spendByDay
        backend: page.backend
    }
    RefusalSummary {
        id: refusals
        backend: page.backend
    }

    // "Spend report…": a period, then a file; the page (HTML) opens once written.
    SpendReportExport {
        id: spendReport
        backend: page.backend
        onFinished: (ok, message, path) => {
            page.notify(message, !ok);
            if (ok && path.toLowerCase().endsWith(".html"))
                App.openUrl("file://" + path);
        }
    }
    FileDialog {
        id: reportDialog
        property string periodName: "this-month"
        title: qsTr("Save the spend report")
        fileMode: FileDialog.SaveFile
        defaultSuffix: selectedNameFilter.index === 1 ? "csv" : "html"
        nameFilters: [qsTr("Printable page (*.html)"), qsTr("CSV files (*.csv)")]
        onAccepted: {
            const csv = selectedNameFilter.index === 1 || String(reportDialog.selectedFile).toLowerCase().endsWith(".csv");
            spendReport.write(reportDialog.selectedFile, csv ? "csv" : "html", reportDialog.periodName);
        }
    }

    ScrollPage {
        anchors.fill: parent
        maxContentWidth: 1320
        bottomMargin: Theme.space4

        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Dashboard")
            subtitle: qsTr("Tools send their requests to %1: here is what they cost.").arg(App.baseUrl)

            TeamScopeToggle {
                backend: page.backend
            }
            AppButton {
                id: reportButton
                text: qsTr("Spend report…")
                icon.source: Theme.icon("download")
                enabled: !spendReport.busy
                Accessible.description: qsTr("Spend per key, model and provider for a period, as a printable page or CSV")
                onClicked: reportMenu.popup(reportButton, 0, reportButton.height)
                Menu {
                    id: reportMenu
                    function choose(name: string) {
                        reportDialog.periodName = name;
                        reportDialog.open();
                    }
                    MenuItem {
                        text: qsTr("This month")
                        onTriggered: reportMenu.choose("this-month")
                    }
                    MenuItem {
                        text: qsTr("Last month")
                        onTriggered: reportMenu.choose("last-month")
                    }
                    MenuItem {
                        text: qsTr("Last 30 days")
                        onTriggered: reportMenu.choose("last-30-days")
                    }
                }
            }
            AppButton {
                text: qsTr("Copy base URL")
                icon.source: Theme.icon("copy")
                onClicked: {
                    App.copyToClipboard(App.baseUrl);
                    page.notify(qsTr("Copied %1").arg(App.baseUrl), false);
                }
            }
        }

        // The request log cannot be written: say why, above everything else.
        Card {
            objectName: "logProblemBanner"
            Layout.fillWidth: true
            visible: LiveStats.logProblem !== ""
            color: Theme.dangerSoft

            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.danger
                text: LiveStats.logProblem
            }
        }

        // First run: what to do, in order.
        Card {
            Layout.fillWidth: true
            visible: App.firstRun
            spacing: Theme.space4

            RowLayout {
                spacing: Theme.space3
                Icon {
                    iconName: "sparkles"
                    size: 22
                    color: Theme.accent
                }
                SectionTitle {
                    text: qsTr("Welcome to Gatehouse")
                    font.pixelSize: Theme.fontTitle + 2
                }
            }
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textMuted
                text: qsTr("Gatehouse runs on this computer between your AI tools and the model providers. "
                           + "Every request goes through it, so you see what each tool spends and can cap it. Three steps to start:")
            }
            GridLayout {
                Layout.fillWidth: true
                columns: page.width > 980 ? 3 : 1
                columnSpacing: Theme.space4
                rowSpacing: Theme.space4

                OnboardingStep {
                    number: 1
                    title: qsTr("Add a provider")
                    text: qsTr("Paste an API key for OpenAI, Anthropic, OpenRouter and others, or point at a local Ollama or LM Studio.")
                    actionText: qsTr("Add a provider")
                    primary: true
                    onActivated: page.openPage("providers/add")
                }
                OnboardingStep {
                    number: 2
                    title: qsTr("Create a key per tool")
                    text: qsTr("Give Claude Code, Cursor or your scripts their own Gatehouse key, with a daily or monthly cap.")
                    actionText: qsTr("Create a key")
                    onActivated: page.openPage("keys/create")
                }
                OnboardingStep {
                    number: 3
                    title: qsTr("Connect your tool")
                    text: qsTr("Copy the ready-made snippet for your tool. Its requests then show up here as they happen.")
                    actionText: qsTr("Connect a tool")
                    onActivated: page.openPage("keys")
                }
            }
        }

        // Set up, but no traffic yet.
        Card {
            Layout.fillWidth: true
            visible: !App.firstRun && !summary.hasData
            EmptyState {
                Layout.topMargin: Theme.space2
                Layout.bottomMargin: Theme.space2
                iconName: "plug"
                title: qsTr("Waiting for the first request")
                text: qsTr("Point a tool at %1 with one of your Gatehouse keys. Its requests, tokens and costs appear here live.").arg(App.baseUrl)

                AppButton {
                    text: qsTr("Connect a tool")
                    variant: "primary"
                    icon.source: Theme.icon("plug")
                    onClicked: page.openPage("keys")
                }
                AppButton {
                    text: qsTr("Providers")
                    onClicked: page.openPage("providers")
                }
            }
        }

        // Spend figures
        GridLayout {
            Layout.fillWidth: true
            columns: page.width > 900 ? 4 : 2
            columnSpacing: Theme.space4
            rowSpacing: Theme.space4

            StatCard {
                Layout.fillWidth: true
                Layout.preferredWidth: 1
                title: qsTr("Today")
                value: summary.today
                previous: summary.todayPrevious
                previousLabel: qsTr("yesterday")
            }
            StatCard {
                Layout.fillWidth: true
                Layout.preferredWidth: 1
                title: qsTr("This week")
                value: summary.week
                previous: summary.weekPrevious
                previousLabel: qsTr("last week")
            }
            StatCard {
                Layout.fillWidth: true
                Layout.preferredWidth: 1
                title: qsTr("This month")
                value: summary.month
                previous: summary.monthPrevious
                previousLabel: qsTr("last month")
            }
            Card {
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.preferredWidth: 1
                padding: Theme.space4 + 2
                spacing: Theme.space1

                Caption {
                    text: qsTr("Requests today")
                    font.weight: Font.Medium
                }
                Label {
                    text: Number(summary.requestsToday).toLocaleString(Qt.locale(), "f", 0)
                    font.pixelSize: Theme.fontDisplay
                    font.weight: Font.DemiBold
                    color: Theme.text
                }
                Caption {
                    text: summary.requestsToday > 0
                          ? qsTr("%1 per request on average").arg(Money.usd(summary.today / summary.requestsToday))
                          : qsTr("no requests yet today")
                }
                // Refusals are evidence: what Gatehouse turned away today, by kind, one click from
                // the requests themselves (Activity, filtered on refusals).
                Label {
                    id: refusalLine
                    objectName: "dashboardRefusals"
                    Layout.fillWidth: true
                    visible: refusals.total > 0
                    wrapMode: Text.Wrap
                    font.pixelSize: Theme.fontSmall
                    color: refusalHover.hovered ? Theme.accent : Theme.warning
                    text: {
                        const parts = [];
                        if (refusals.budget > 0)
                            parts.push(qsTr("budget\u00a0%1").arg(refusals.budget));
                        if (refusals.policy > 0)
                            parts.push(qsTr("policy\u00a0%1").arg(refusals.policy));
                        if (refusals.secret > 0)
                            parts.push(qsTr("secret\u00a0%1").arg(refusals.secret));
                        if (refusals.guardrail > 0)
                            parts.push(qsTr("guardrail\u00a0%1").arg(refusals.guardrail));
                        return (refusals.total === 1 ? qsTr("1\u00a0refused") : qsTr("%1\u00a0refused").arg(refusals.total))
                            + (parts.length > 0 ? " (" + parts.join(", ") + ")" : "");
                    }
                    Accessible.role: Accessible.Link
                    Accessible.name: refusalLine.text
                    HoverHandler {
                        id: refusalHover
                        cursorShape: Qt.PointingHandCursor
                    }
                    TapHandler {
                        onTapped: page.openPage("activity/refused:")
                    }
                }
            }
        }

        // Live traffic
        Card {
            id: liveCard
            Layout.fillWidth: true
            spacing: Theme.space3

            property string metric: "requests"
            readonly property real axisMax: liveChart.niceCeiling(liveCard.metric === "requests" ? Math.max(1, LiveStats.maxRequestsPerSecond)
                                          : liveCard.metric === "tokens" ? Math.max(10, LiveStats.maxTokensPerSecond)
                                          : Math.max(0.1, LiveStats.maxDollarsPerHour))

            function refresh() {
                LiveStats.fillSeries(liveLine, liveCard.metric);
            }
            onMetricChanged: liveCard.refresh()

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.space3

                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: 2
                    SectionTitle {
                        text: qsTr("Live traffic")
                    }
                    Caption {
                        text: qsTr("Last 15 minutes, updated every second")
                    }
                }

                LiveMetricButton {
                    label: qsTr("Requests / s")
                    value: LiveStats.requestsPerSecond.toFixed(LiveStats.requestsPerSecond < 10 ? 1 : 0)
                    checked: liveCard.metric === "requests"
                    onClicked: liveCard.metric = "requests"
                }
                LiveMetricButton {
                    label: qsTr("Tokens / s")
                    value: Format.tokens(Math.round(LiveStats.tokensPerSecond))
                    checked: liveCard.metric === "tokens"
                    onClicked: liveCard.metric = "tokens"
                }
                LiveMetricButton {
                    label: qsTr("Spend / hour")
                    value: Money.usd(LiveStats.dollarsPerHour)
                    checked: liveCard.metric === "dollars"
                    onClicked: liveCard.metric = "dollars"
                }
            }

            ThemedChart {
                id: liveChart
                objectName: "liveChart"
                localizeTicks: true
                Layout.preferredHeight: 240
                Layout.rightMargin: -Theme.space2
                Accessible.name: qsTr("Live chart")

                ChartCategoryAxis {
                    id: liveX
                    min: -900
                    max: 0
                    gridVisible: true
                    gridLineColor: Theme.border
                    minorGridVisible: false

                    CategoryRange {
                        label: qsTr("15 min ago")
                        endValue: -900
                    }
                    CategoryRange {
                        label: qsTr("10 min")
                        endValue: -600
                    }
                    CategoryRange {
                        label: qsTr("5 min")
                        endValue: -300
                    }
                    CategoryRange {
                        label: qsTr("now")
                        endValue: 0
                    }
                }
                ChartValueAxis {
                    id: liveY
                    max: liveCard.axisMax
                    labelFormat: (liveCard.metric === "dollars" ? Format.currencySymbol : "") + liveChart.tickFormat(liveY.max)
                    minorGridVisible: false
                }
                AreaSeries {
                    id: liveArea
                    axisX: liveX
                    axisY: liveY
                    color: Theme.withAlpha(Theme.accent, Theme.dark ? 0.22 : 0.14)
                    borderColor: Theme.accent
                    borderWidth: 2
                    upperSeries: LineSeries {
                        id: liveLine
                    }
                }
            }

            Timer {
                interval: 1000
                repeat: true
                running: page.visible
                triggeredOnStart: true
                onTriggered: liveCard.refresh()
            }
        }

        // Spend per day and the top spenders
        GridLayout {
            Layout.fillWidth: true
            columns: 2
            columnSpacing: Theme.space4
            rowSpacing: Theme.space4

            Card {
                id: byDayCard
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.columnSpan: 2
                spacing: Theme.space3

                function refresh() {
                    spendByDay.fillStackedBars(dayBars, Theme.series);
                    for (const label of dayAxis.categoriesLabels)
                        dayAxis.remove(label);
                    const days = spendByDay.days;
                    // A label every week at its bar, ending with the most recent day (categories
                    // must be appended in increasing order).
                    for (let d = (days.length - 1) % 7; d < days.length; d += 7)
                        dayAxis.append(Qt.formatDate(Date.fromLocaleString(Qt.locale("C"), days[d], "yyyy-MM-dd"), "MMM d"), d);
                }

                Connections {
                    target: spendByDay
                    function onChanged() {
                        byDayCard.refresh();
                    }
                }
                Connections {
                    target: Theme
                    function onDarkChanged() {
                        byDayCard.refresh();
                    }
                }
                Component.onCompleted: byDayCard.refresh()

                RowLayout {
                    Layout.fillWidth: true
                    ColumnLayout {
                        Layout.fillWidth: true
                        spacing: 2
                        SectionTitle {
                            text: qsTr("Spend per day")
                        }
                        Caption {
                            text: qsTr("Last 30 days, by provider")
                        }
                    }
                    Flow {
                        Layout.maximumWidth: byDayCard.width * 0.6
                        spacing: Theme.space3
                        layoutDirection: Qt.RightToLeft
                        Repeater {
                            model: spendByDay.providers
                            delegate: RowLayout {
                                id: legendEntry
                                required property string modelData
                                required property int index
                                spacing: 5
                                Rectangle {
                                    implicitWidth: 8
                                    implicitHeight: 8
                                    radius: 2
                                    color: Theme.seriesColor(legendEntry.index)
                                }
                                Caption {
                                    text: legendEntry.modelData
                                }
                            }
                        }
                    }
                }

                ThemedChart {
                    id: dayChart
                    objectName: "dayChart"
                    localizeTicks: true
                    Layout.preferredHeight: 240
                    Layout.rightMargin: -Theme.space2
                    Accessible.name: qsTr("Spend per day, last 30 days")

                    ChartCategoryAxis {
                        id: dayAxis
                        bars: spendByDay.days.length
                    }
                    ChartValueAxis {
                        id: costAxis
                        max: dayChart.niceCeiling(Math.max(0.01, spendByDay.maxDayTotal * Format.currencyRate))
                        labelFormat: Format.currencySymbol + dayChart.tickFormat(costAxis.max)
                    }
                    StackedBarSeries {
                        id: dayBars
                        axisX: dayAxis
                        axisY: costAxis
                        barWidth: 0.7
                        onHovered: (status, index, barset) => {
                            if (status)
                                dayChart.showTip(qsTr("%1 · %2: %3").arg(spendByDay.days[index]).arg(barset.label).arg(Money.usd(barset.at(index))));
                            else
                                dayChart.hideTip();
                        }
                    }
                }
            }

            TopSpendList {
                backend: page.backend
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.preferredWidth: 1
                Layout.minimumWidth: 260
                title: qsTr("Top keys")
                groupBy: "key"
                emptyText: qsTr("No key has spent anything in this period.")
            }
            TopSpendList {
                backend: page.backend
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.preferredWidth: 1
                Layout.minimumWidth: 260
                title: qsTr("Top models")
                groupBy: "model"
                emptyText: qsTr("No model has been used in this period.")
            }
        }

        SessionSpendList {
            backend: page.backend
            Layout.fillWidth: true
            onOpenSession: session => page.openPage("activity/session:" + session)
        }
    }
}
