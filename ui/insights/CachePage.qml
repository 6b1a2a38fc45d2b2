pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import QtCharts
import Gatehouse

// Prompt caching: how much of the prompt tokens providers read from their cache, what that saved
// against the uncached price, per day, per provider, model and key; and for keys with poor hit
// rates, where their consecutive prompts start to differ (from block hashes: no prompt text is kept).
PageBase {
    id: page

    readonly property string periodText: cache.period === "day" ? qsTr("the last 24 hours")
                                        : cache.period === "week" ? qsTr("the last 7 days")
                                        : cache.period === "month" ? qsTr("the last 30 days") : qsTr("all time")
    // The chart's token unit: 1, thousands or millions.
    readonly property real unit: cache.chartMaxTokens >= 2e6 ? 1e6 : cache.chartMaxTokens >= 2e3 ? 1e3 : 1
    readonly property string unitSuffix: page.unit === 1e6 ? "M" : page.unit === 1e3 ? "k" : ""
    readonly property list<color> chartColors: [Theme.ok, Theme.warning, Theme.withAlpha(Theme.textFaint, 0.55)]

    function rate(value: real): string {
        return value < 0 ? "—" : Format.percent(value);
    }

    // One figure of the period: a title, a large value and a note.
    component Figure: Card {
        id: figure
        required property string title
        required property string value
        required property string note
        Layout.fillWidth: true
        Layout.fillHeight: true
        Layout.preferredWidth: 1
        padding: Theme.space4 + 2
        spacing: Theme.space1

        Caption {
            text: figure.title
            font.weight: Font.Medium
        }
        Label {
            text: figure.value
            font.pixelSize: Theme.fontDisplay
            font.weight: Font.DemiBold
            color: Theme.text
        }
        Caption {
            Layout.fillWidth: true
            text: figure.note
            elide: Text.ElideRight
        }
    }

    CacheModel {
        id: cache
        backend: page.backend
        period: periodSwitch.current
        groupBy: groupSwitch.current
    }

    ScrollPage {
        anchors.fill: parent
        maxContentWidth: 1320
        bottomMargin: Theme.space3

        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Cache")
            subtitle: qsTr("How much of your prompts providers read from their cache, and what that saved.")

            BusyIndicator {
                running: cache.loading
                visible: cache.loading
                implicitWidth: 24
                implicitHeight: 24
                padding: 0
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

        // The figures of the period
        GridLayout {
            Layout.fillWidth: true
            columns: page.width > 900 ? 4 : 2
            columnSpacing: Theme.space4
            rowSpacing: Theme.space4

            Figure {
                title: qsTr("Hit rate")
                value: page.rate(cache.hitRate)
                note: qsTr("of %1 prompt tokens read from cache").arg(Format.tokens(cache.promptTokens))
            }
            Figure {
                title: qsTr("Saved by cache reads")
                value: Money.usd(cache.saved)
                note: cache.unpricedReadTokens > 0 ? qsTr("%1 cached tokens of unpriced models not counted").arg(Format.tokens(cache.unpricedReadTokens))
                                                   : qsTr("against the uncached input price")
            }
            Figure {
                title: qsTr("Read from cache")
                value: Format.tokens(cache.cacheReadTokens)
                note: qsTr("tokens over %1").arg(page.periodText)
            }
            Figure {
                title: qsTr("Written to cache")
                value: Format.tokens(cache.cacheWriteTokens)
                note: cache.poorKeys === 1 ? qsTr("1 key with a poor hit rate (below 50%)")
                      : cache.poorKeys > 1 ? qsTr("%1 keys with a poor hit rate (below 50%)").arg(cache.poorKeys) : qsTr("tokens, both TTLs")
            }
            // Gatehouse's own response cache: whole answers replayed without asking the provider.
            Figure {
                title: qsTr("Answered by Gatehouse's cache")
                value: cache.responseHits.toLocaleString(Qt.locale(), "f", 0)
                note: cache.responseLookups > 0 ? qsTr("%1 of %2 lookups, not sent to a provider").arg(page.rate(cache.responseHits / cache.responseLookups)).arg(cache.responseLookups.toLocaleString(Qt.locale(), "f", 0))
                                                : qsTr("turn it on per key or route: \"response_cache\"")
            }
            Figure {
                title: qsTr("Saved by cached answers")
                value: Money.usd(cache.responseSaved)
                note: qsTr("what they cost when first bought")
            }
        }

        // Tokens per day (hour) and the hit rate
        Card {
            id: chartCard
            Layout.fillWidth: true
            spacing: Theme.space3

            function refresh() {
                cache.fillChart(tokenBars, hitLine, page.chartColors, page.unit);
                for (const label of bucketAxis.categoriesLabels)
                    bucketAxis.remove(label);
                const labels = cache.chartLabels;
                // At most about ten labels, ending with the most recent bucket.
                const every = Math.max(1, Math.ceil(labels.length / 10));
                for (let i = (labels.length - 1) % every; i < labels.length; i += every)
                    bucketAxis.append(labels[i], i);
            }

            Connections {
                target: cache
                function onResultChanged() {
                    chartCard.refresh();
                }
            }
            Connections {
                target: Theme
                function onDarkChanged() {
                    chartCard.refresh();
                }
            }
            Component.onCompleted: chartCard.refresh()

            RowLayout {
                Layout.fillWidth: true
                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: 2
                    SectionTitle {
                        Layout.fillWidth: true
                        text: cache.period === "day" ? qsTr("Prompt tokens per hour") : qsTr("Prompt tokens per day")
                    }
                    Caption {
                        Layout.fillWidth: true
                        text: qsTr("Read from cache, written to cache and uncached; the line is the hit rate")
                        elide: Text.ElideRight
                    }
                }
                Row {
                    spacing: Theme.space3
                    Repeater {
                        model: [qsTr("Read from cache"), qsTr("Written to cache"), qsTr("Uncached"), qsTr("Hit rate")]
                        delegate: Row {
                            id: legendEntry
                            required property string modelData
                            required property int index
                            spacing: 5
                            Rectangle {
                                anchors.verticalCenter: parent.verticalCenter
                                width: legendEntry.index === 3 ? 12 : 8
                                height: legendEntry.index === 3 ? 2 : 8
                                radius: legendEntry.index === 3 ? 1 : 2
                                color: legendEntry.index === 3 ? Theme.accent : page.chartColors[legendEntry.index]
                            }
                            Caption {
                                text: legendEntry.modelData
                            }
                        }
                    }
                }
            }

            ThemedChart {
                id: chart
                Layout.preferredHeight: 180
                Layout.rightMargin: -Theme.space3
                Accessible.name: qsTr("Prompt tokens and cache hit rate over time")

                ChartCategoryAxis {
                    id: bucketAxis
                    bars: cache.chartLabels.length
                }
                ChartValueAxis {
                    id: tokenAxis
                    // At least 4: an axis of a few tokens keeps whole-number ticks (its labels were
                    // "1, 1, 0, 0" at a maximum of 1, quarter steps printed without decimals).
                    max: chart.niceCeiling(Math.max(4, cache.chartMaxTokens / page.unit))
                    labelFormat: chart.tickFormat(tokenAxis.max) + page.unitSuffix
                }
                ChartValueAxis {
                    id: rateAxis
                    max: 100
                    labelFormat: "%.0f%%"
                    gridVisible: false
                }
                StackedBarSeries {
                    id: tokenBars
                    axisX: bucketAxis
                    axisY: tokenAxis
                    barWidth: 0.7
                    onHovered: (status, index, barset) => {
                        if (status)
                            chart.showTip(qsTr("%1 · %2: %3 tokens · saved %4")
                                          .arg(cache.chartLabels[index] ?? "")
                                          .arg(barset.label)
                                          .arg(Format.tokens(barset.at(index) * page.unit))
                                          .arg(Money.usd(cache.savedAt(index))));
                        else
                            chart.hideTip();
                    }
                }
                LineSeries {
                    id: hitLine
                    axisX: bucketAxis
                    axisYRight: rateAxis
                    color: Theme.accent
                    width: 2
                    pointsVisible: true
                }
            }
        }

        // What if: the hit rate of one provider at X% instead of its Y%
        Card {
            id: whatIfCard
            objectName: "cacheWhatIf"
            Layout.fillWidth: true
            spacing: Theme.space3
            visible: byProvider.ready

            // Bumped on every read: the row figures below are read through data() calls.
            property int revision: 0
            readonly property int row: Math.min(Math.max(0, providerBox.currentIndex), byProvider.count - 1)
            function figure(role: int): var {
                return whatIfCard.revision >= 0 && whatIfCard.row >= 0 ? byProvider.data(byProvider.index(whatIfCard.row, 0), role) : undefined;
            }
            readonly property string provider: whatIfCard.figure(CacheModel.NameRole) ?? ""
            readonly property real actualRate: whatIfCard.figure(CacheModel.HitRateRole) ?? -1
            readonly property real maxRate: whatIfCard.figure(CacheModel.MaxHitRateRole) ?? -1
            readonly property real actualSaved: whatIfCard.figure(CacheModel.SavedRole) ?? 0
            readonly property real rate: rateSlider.value
            readonly property real savedThen: whatIfCard.revision >= 0 && whatIfCard.row >= 0 ? byProvider.savedAtHitRate(whatIfCard.row, whatIfCard.rate) : 0
            readonly property real delta: whatIfCard.savedThen - whatIfCard.actualSaved

            Connections {
                target: byProvider
                function onResultChanged() {
                    // A reset of the model leaves the box without a current row.
                    if (providerBox.currentIndex < 0 && byProvider.count > 0)
                        providerBox.currentIndex = 0;
                    whatIfCard.revision++;
                    rateSlider.value = Math.max(0, whatIfCard.actualRate);
                }
            }

            CacheModel {
                id: byProvider
                backend: page.backend
                period: periodSwitch.current
                groupBy: "provider"
            }

            ColumnLayout {
                Layout.fillWidth: true
                spacing: 2
                SectionTitle {
                    Layout.fillWidth: true
                    text: qsTr("What if the hit rate were different")
                }
                Caption {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    text: qsTr("Prompt tokens move between uncached input and cache reads at each model's prices; cache writes stay as they were, so the rate goes up to what they leave.")
                }
            }

            Label {
                visible: byProvider.count === 0
                Layout.fillWidth: true
                color: Theme.textMuted
                wrapMode: Text.Wrap
                text: qsTr("No prompt tokens over %1 yet.").arg(page.periodText)
            }

            RowLayout {
                visible: byProvider.count > 0
                Layout.fillWidth: true
                spacing: Theme.space4

                AppComboBox {
                    id: providerBox
                    objectName: "cacheWhatIfProvider"
                    Layout.preferredWidth: 180
                    model: byProvider
                    textRole: "name"
                    Accessible.name: qsTr("Provider")
                    onActivated: rateSlider.value = Math.max(0, whatIfCard.actualRate)
                }
                LogSlider {
                    id: rateSlider
                    objectName: "cacheWhatIfRate"
                    Layout.fillWidth: true
                    Layout.minimumWidth: 160
                    to: Math.max(0.0001, whatIfCard.maxRate)
                    stepSize: 0.01
                    Accessible.name: qsTr("Hit rate")
                }
                Label {
                    Layout.preferredWidth: 48
                    horizontalAlignment: Text.AlignRight
                    text: Format.percent(whatIfCard.rate)
                    font.weight: Font.DemiBold
                    color: Theme.text
                }
            }

            Label {
                objectName: "cacheWhatIfText"
                visible: byProvider.count > 0
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.text
                text: whatIfCard.actualRate < 0 ? qsTr("No prompt tokens for %1 over %2.").arg(whatIfCard.provider).arg(page.periodText)
                      : qsTr("At %1 instead of %2, %3's cache reads would have saved %4 instead of %5: %6 %7 over %8.")
                        .arg(Format.percent(whatIfCard.rate))
                        .arg(page.rate(whatIfCard.actualRate))
                        .arg(whatIfCard.provider)
                        .arg(Money.usd(whatIfCard.savedThen))
                        .arg(Money.usd(whatIfCard.actualSaved))
                        .arg(Money.usd(Math.abs(whatIfCard.delta)))
                        .arg(whatIfCard.delta >= 0 ? qsTr("less spent") : qsTr("more spent"))
                        .arg(page.periodText)
            }
        }

        // Per provider, model or key
        Card {
            Layout.fillWidth: true
            spacing: Theme.space3

            RowLayout {
                Layout.fillWidth: true
                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: 2
                    SectionTitle {
                        Layout.fillWidth: true
                        text: groupSwitch.current === "key" ? qsTr("By key") : groupSwitch.current === "provider" ? qsTr("By provider") : qsTr("By model")
                    }
                    Caption {
                        Layout.fillWidth: true
                        elide: Text.ElideRight
                        text: groupSwitch.current === "key"
                              ? qsTr("Which tools keep their prompts cache-friendly; where a key's prompts start to differ is shown below it")
                              : qsTr("Saved: cache reads priced at the input price minus the cache-read price")
                    }
                }
                Segmented {
                    id: groupSwitch
                    accessibleName: qsTr("Group by")
                    current: "model"
                    options: [
                        { value: "provider", label: qsTr("Providers") },
                        { value: "model", label: qsTr("Models") },
                        { value: "key", label: qsTr("Keys") }
                    ]
                }
            }

            // Column headers
            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.space3
                ColumnHeader { Layout.fillWidth: true; Layout.minimumWidth: 140; text: groupSwitch.current === "key" ? qsTr("Key") : groupSwitch.current === "provider" ? qsTr("Provider") : qsTr("Model") }
                ColumnHeader { Layout.preferredWidth: 200; text: qsTr("Hit rate") }
                ColumnHeader { Layout.preferredWidth: 90; text: qsTr("Prompt"); horizontalAlignment: Text.AlignRight }
                ColumnHeader { Layout.preferredWidth: 90; text: qsTr("Read"); horizontalAlignment: Text.AlignRight }
                ColumnHeader { Layout.preferredWidth: 90; text: qsTr("Written"); horizontalAlignment: Text.AlignRight }
                ColumnHeader { Layout.preferredWidth: 90; text: qsTr("Saved"); horizontalAlignment: Text.AlignRight }
            }
            Divider {
                Layout.fillWidth: true
            }

            // Rows in a positioner (see TopSpendList: Quick Layouts and Repeater resets)
            Column {
                id: groupRows
                Layout.fillWidth: true
                spacing: 0

                Repeater {
                    model: cache
                    delegate: Item {
                        id: group
                        required property int index
                        required property string name
                        required property real promptTokens
                        required property real cacheReadTokens
                        required property real cacheWriteTokens
                        required property real hitRate
                        required property real saved
                        required property real unpricedReadTokens
                        required property bool poor
                        required property string diagnosis
                        required property string diagnosisSection

                        width: groupRows.width
                        implicitHeight: groupColumn.implicitHeight + 2 * Theme.space2

                        ColumnLayout {
                            id: groupColumn
                            anchors.left: parent.left
                            anchors.right: parent.right
                            anchors.verticalCenter: parent.verticalCenter
                            spacing: Theme.space1

                            RowLayout {
                                Layout.fillWidth: true
                                spacing: Theme.space3

                                RowLayout {
                                    Layout.fillWidth: true
                                    Layout.minimumWidth: 140
                                    spacing: Theme.space2
                                    Icon {
                                        visible: group.poor
                                        iconName: "alert"
                                        size: 14
                                        color: Theme.warning
                                    }
                                    Cell {
                                        Layout.fillWidth: true
                                        text: group.name.length > 0 ? group.name : qsTr("(no key)")
                                        font.family: groupSwitch.current === "model" ? Theme.monoFamily : Theme.fontFamily
                                        font.pixelSize: groupSwitch.current === "model" ? Theme.fontSmall : Theme.fontBody
                                        font.weight: Font.Medium
                                        color: group.name.length > 0 ? Theme.text : Theme.textMuted
                                    }
                                }
                                RowLayout {
                                    Layout.preferredWidth: 200
                                    Layout.maximumWidth: 200
                                    spacing: Theme.space2
                                    UsageBar {
                                        Layout.fillWidth: true
                                        fraction: Math.max(0, group.hitRate)
                                        thresholds: false
                                        tone: group.poor ? Theme.warning : Theme.ok
                                    }
                                    Label {
                                        Layout.preferredWidth: 44
                                        horizontalAlignment: Text.AlignRight
                                        text: page.rate(group.hitRate)
                                        font.pixelSize: Theme.fontSmall
                                        color: Theme.text
                                    }
                                }
                                Cell {
                                    Layout.preferredWidth: 90
                                    horizontalAlignment: Text.AlignRight
                                    text: Format.tokens(group.promptTokens)
                                    color: Theme.textMuted
                                }
                                Cell {
                                    Layout.preferredWidth: 90
                                    horizontalAlignment: Text.AlignRight
                                    text: Format.tokens(group.cacheReadTokens)
                                }
                                Cell {
                                    Layout.preferredWidth: 90
                                    horizontalAlignment: Text.AlignRight
                                    text: Format.tokens(group.cacheWriteTokens)
                                    color: Theme.textMuted
                                }
                                Cell {
                                    Layout.preferredWidth: 90
                                    horizontalAlignment: Text.AlignRight
                                    text: group.saved === 0 && group.unpricedReadTokens > 0 ? qsTr("unpriced") : Money.usd(group.saved)
                                    color: group.saved > 0 ? Theme.ok : Theme.textFaint
                                    font.weight: Font.Medium
                                }
                            }
                            // The prefix diagnosis of a key
                            Label {
                                Layout.fillWidth: true
                                Layout.leftMargin: group.poor ? 22 : 0
                                visible: group.diagnosis.length > 0
                                text: group.diagnosis + (!group.poor ? ""
                                      : group.diagnosisSection === "system" ? qsTr(": something in the system prompt changes between requests (a date, a time, an id?)")
                                      : group.diagnosisSection === "tools" ? qsTr(": the tool definitions change between requests (their order?)")
                                      : group.diagnosisSection === "messages" ? qsTr(": earlier messages are rewritten between requests")
                                      : qsTr(": the prompts are stable, so the provider does not cache them (too short, or no prompt caching)"))
                                wrapMode: Text.Wrap
                                font.pixelSize: Theme.fontSmall
                                color: group.poor ? Theme.warning : Theme.textMuted
                            }
                        }
                        Rectangle {
                            anchors.bottom: parent.bottom
                            width: parent.width
                            height: 1
                            color: Theme.border
                            opacity: 0.6
                            visible: group.index < cache.count - 1
                        }
                    }
                }
            }

            EmptyState {
                Layout.fillWidth: true
                visible: cache.count === 0 && cache.ready
                iconName: "layers"
                title: qsTr("No prompt tokens in this period")
                text: qsTr("Cache figures appear once requests through %1 report their usage.").arg(App.baseUrl)
            }
        }
    }
}
