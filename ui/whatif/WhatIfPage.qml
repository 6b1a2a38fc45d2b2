pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import QtCharts
import Gatehouse

// What the same token usage would have cost on another model or route: a slice of the request log
// (period, key, model, session) re-priced at the prices the gateway would bill the candidate, per
// day, with the requests that would not fit its context window, the capabilities it lacks and the
// user's own Compare votes. Read off the UI thread (WhatIfModel).
PageBase {
    id: page

    readonly property list<color> chartColors: [Theme.withAlpha(Theme.textFaint, 0.7), Theme.accent]
    readonly property bool hasCandidates: whatIf.candidateOptions.length > 0
    readonly property bool picked: whatIf.candidate !== ""
    readonly property bool hasRequests: whatIf.ready && whatIf.requests > 0
    readonly property string candidateName: whatIf.candidateModel !== "" && whatIf.candidateModel !== whatIf.candidate
                                            ? qsTr("%1 (%2)").arg(whatIf.candidate).arg(whatIf.candidateModel) : whatIf.candidate

    function count(n: real): string {
        return Number(n).toLocaleString(Qt.locale(), "f", 0);
    }
    function signedUsd(value: real): string {
        return (value > 0 ? "+" : value < 0 ? "−" : "") + Money.usd(Math.abs(value));
    }

    // One figure: a title, a large value and a note.
    component Figure: Card {
        id: figure
        required property string title
        required property string value
        required property string note
        property color valueColor: Theme.text
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
            Layout.fillWidth: true
            text: figure.value
            font.pixelSize: Theme.fontDisplay
            font.weight: Font.DemiBold
            color: figure.valueColor
            elide: Text.ElideRight
        }
        Caption {
            Layout.fillWidth: true
            text: figure.note
            wrapMode: Text.Wrap
            maximumLineCount: 2
            elide: Text.ElideRight
        }
    }

    // A labelled picker of {value, label} options.
    component Picker: ColumnLayout {
        id: picker
        required property string title
        required property var options
        required property var current
        signal picked(var value)
        Layout.fillWidth: true
        Layout.preferredWidth: 1
        spacing: 4

        Caption {
            text: picker.title
            font.weight: Font.Medium
        }
        AppComboBox {
            id: box
            Layout.fillWidth: true
            model: picker.options
            textRole: "label"
            valueRole: "value"
            currentIndex: Math.max(0, box.indexOfValue(picker.current))
            Accessible.name: picker.title
            onActivated: picker.picked(box.currentValue)
        }
    }

    WhatIfModel {
        id: whatIf
        objectName: "whatIfModel"
        backend: page.backend
        days: Number(periodSwitch.current)
    }

    ScrollPage {
        anchors.fill: parent
        maxContentWidth: 1320
        bottomMargin: Theme.space3

        PageHeader {
            Layout.fillWidth: true
            title: qsTr("What if")
            subtitle: qsTr("What your own requests would have cost on another model or route, at the prices Gatehouse would bill it.")

            BusyIndicator {
                objectName: "whatIfBusy"
                running: whatIf.loading
                visible: whatIf.loading
                implicitWidth: 24
                implicitHeight: 24
                padding: 0
            }
            Segmented {
                id: periodSwitch
                accessibleName: qsTr("Period")
                current: "30"
                options: [
                    { value: "7", label: qsTr("7 days") },
                    { value: "30", label: qsTr("30 days") },
                    { value: "90", label: qsTr("90 days") }
                ]
            }
        }

        // The slice and the candidate
        Card {
            Layout.fillWidth: true
            spacing: Theme.space3

            GridLayout {
                Layout.fillWidth: true
                columns: width > 860 ? 4 : 2
                columnSpacing: Theme.space4
                rowSpacing: Theme.space3

                Picker {
                    objectName: "keyPicker"
                    title: qsTr("Key")
                    options: [{ value: 0, label: qsTr("All keys") }].concat(whatIf.keyOptions)
                    current: whatIf.keyId
                    onPicked: value => whatIf.keyId = value
                }
                Picker {
                    objectName: "modelPicker"
                    title: qsTr("Model used")
                    options: [{ value: "", label: qsTr("All models") }].concat(whatIf.modelOptions.map(m => ({ value: m, label: m })))
                    current: whatIf.model
                    onPicked: value => whatIf.model = value
                }
                Picker {
                    objectName: "sessionPicker"
                    title: qsTr("Session")
                    options: [{ value: "", label: qsTr("All sessions") }].concat(whatIf.sessionOptions.map(s => ({ value: s, label: s })))
                    current: whatIf.session
                    onPicked: value => whatIf.session = value
                }
                Picker {
                    objectName: "candidatePicker"
                    title: qsTr("Instead, on")
                    options: [{ value: "", label: qsTr("Pick a model or route…") }].concat(whatIf.candidateOptions)
                    current: whatIf.candidate
                    onPicked: value => whatIf.candidate = value
                }
            }
        }

        // Nothing to compare yet
        EmptyState {
            objectName: "whatIfEmpty"
            visible: !page.hasCandidates || !page.picked || (whatIf.ready && whatIf.requests === 0)
            Layout.topMargin: Theme.space6
            iconName: "scale"
            title: !page.hasCandidates ? qsTr("No models to compare with yet")
                   : !page.picked ? qsTr("Pick a model or route to compare with")
                   : qsTr("No requests in this slice")
            text: !page.hasCandidates ? qsTr("Add a provider: its models and your routes become the candidates.")
                  : !page.picked ? qsTr("Your requests of the period are re-priced on it: the same tokens, cache reads and writes included.")
                  : qsTr("Nothing was logged for this key, model and session over the last %1 days. Widen the slice or the period.").arg(whatIf.days)

            AppButton {
                visible: !page.hasCandidates
                text: qsTr("Add a provider")
                onClicked: page.openPage("providers")
            }
        }

        // The figures
        GridLayout {
            objectName: "whatIfFigures"
            visible: page.picked && page.hasRequests
            Layout.fillWidth: true
            columns: page.width > 1000 ? 4 : 2
            columnSpacing: Theme.space4
            rowSpacing: Theme.space4

            Figure {
                objectName: "spentFigure"
                title: qsTr("Spent")
                value: Money.usd(whatIf.actualCost)
                note: whatIf.unpricedActual > 0 ? qsTr("%1 requests; %2 of unpriced models not counted").arg(page.count(whatIf.requests)).arg(page.count(whatIf.unpricedActual))
                                                : qsTr("%1 requests over the last %2 days").arg(page.count(whatIf.requests)).arg(whatIf.days)
            }
            Figure {
                objectName: "candidateFigure"
                title: qsTr("On %1").arg(page.candidateName)
                value: whatIf.candidatePriced ? Money.usd(whatIf.candidateCost) : qsTr("Unpriced")
                note: !whatIf.candidatePriced ? qsTr("Gatehouse knows no price for it: set one on the Providers page")
                      : whatIf.candidateCaches ? qsTr("the same tokens, cache reads and writes at its cache prices")
                      : qsTr("it has no cache price: cached tokens billed as input")
            }
            Figure {
                objectName: "differenceFigure"
                title: !whatIf.candidatePriced || whatIf.difference === 0 ? qsTr("Difference")
                       : whatIf.difference < 0 ? qsTr("You would have saved") : qsTr("It would have cost more")
                value: whatIf.candidatePriced ? page.signedUsd(whatIf.difference) : "—"
                valueColor: !whatIf.candidatePriced ? Theme.textMuted : whatIf.difference < 0 ? Theme.ok : whatIf.difference > 0 ? Theme.danger : Theme.text
                note: whatIf.candidatePriced && whatIf.actualCost > 0 ? qsTr("%1 of what was spent").arg(Format.percent(Math.abs(whatIf.difference) / whatIf.actualCost))
                                                                      : qsTr("the candidate's cost minus what was spent")
            }
            Figure {
                objectName: "contextFigure"
                title: qsTr("Would not fit its context window")
                value: whatIf.overContext < 0 ? "—" : page.count(whatIf.overContext)
                valueColor: whatIf.overContext > 0 ? Theme.danger : Theme.text
                note: whatIf.contextWindow <= 0 ? qsTr("its context window is unknown")
                      : qsTr("requests above %1 tokens, prompt and answer").arg(Format.tokens(whatIf.contextWindow))
            }
        }

        // The difference per day
        Card {
            id: chartCard
            visible: page.picked && page.hasRequests
            Layout.fillWidth: true
            spacing: Theme.space3

            function refresh() {
                whatIf.fillChart(dayBars, page.chartColors);
                for (const label of dayAxis.categoriesLabels)
                    dayAxis.remove(label);
                const labels = whatIf.dayLabels;
                // At most about ten labels, ending with today.
                const every = Math.max(1, Math.ceil(labels.length / 10));
                for (let i = (labels.length - 1) % every; i < labels.length; i += every)
                    dayAxis.append(labels[i], i);
            }

            Connections {
                target: whatIf
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
                        text: qsTr("Per day")
                    }
                    Caption {
                        Layout.fillWidth: true
                        text: qsTr("What was spent and what the candidate would have cost, per UTC day")
                        elide: Text.ElideRight
                    }
                }
                Row {
                    spacing: Theme.space3
                    Repeater {
                        model: [qsTr("Spent"), page.candidateName]
                        delegate: Row {
                            id: legendEntry
                            required property string modelData
                            required property int index
                            spacing: 5
                            Rectangle {
                                anchors.verticalCenter: parent.verticalCenter
                                width: 8
                                height: 8
                                radius: 2
                                color: page.chartColors[legendEntry.index]
                            }
                            Caption {
                                text: legendEntry.modelData
                                elide: Text.ElideRight
                                width: Math.min(implicitWidth, 220)
                            }
                        }
                    }
                }
            }

            ThemedChart {
                id: dayChart
                objectName: "whatIfChart"
                localizeTicks: true
                Layout.preferredHeight: 220
                Layout.rightMargin: -Theme.space2
                Accessible.name: qsTr("Spent and candidate cost per day")

                ChartCategoryAxis {
                    id: dayAxis
                    bars: whatIf.count
                }
                ChartValueAxis {
                    id: costAxis
                    max: dayChart.niceCeiling(Math.max(0.01, whatIf.maxDayCost * Format.currencyRate))
                    labelFormat: Format.currencySymbol + dayChart.tickFormat(costAxis.max)
                }
                BarSeries {
                    id: dayBars
                    axisX: dayAxis
                    axisY: costAxis
                    barWidth: 0.8
                    onHovered: (status, index, barset) => {
                        if (!status) {
                            dayChart.hideTip();
                            return;
                        }
                        const row = whatIf.index(index, 0);
                        const actual = whatIf.data(row, WhatIfModel.ActualRole);
                        const candidate = whatIf.data(row, WhatIfModel.CandidateRole);
                        dayChart.showTip(candidate < 0 ? qsTr("%1 · spent %2 · candidate unpriced").arg(whatIf.dayLabels[index]).arg(Money.usd(actual))
                                                       : qsTr("%1 · spent %2 · on the candidate %3 (%4)").arg(whatIf.dayLabels[index]).arg(Money.usd(actual)).arg(Money.usd(candidate)).arg(page.signedUsd(candidate - actual)));
                    }
                }
            }
        }

        // What the candidate cannot do, and what the user's votes say
        GridLayout {
            visible: page.picked && page.hasRequests
            Layout.fillWidth: true
            columns: page.width > 1000 ? 2 : 1
            columnSpacing: Theme.space4
            rowSpacing: Theme.space4

            Card {
                objectName: "capabilitiesCard"
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.preferredWidth: 1
                spacing: Theme.space2

                SectionTitle {
                    text: qsTr("Capabilities it lacks")
                }
                Label {
                    objectName: "capabilitiesText"
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    color: whatIf.missingCapabilities.length > 0 ? Theme.danger : Theme.text
                    text: !whatIf.capabilitiesKnown ? qsTr("The catalog does not say what it can do.")
                          : whatIf.missingCapabilities.length > 0 ? qsTr("Your models here use %1; it has none of that. Requests that need it would fail there.").arg(whatIf.missingCapabilities.join(", "))
                          : qsTr("None: it has every capability the catalog lists for the models of this slice.")
                }
                Caption {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    text: qsTr("From the price catalog: tools, vision, JSON schema and the like. A cheaper model that cannot do the job is no saving.")
                }
            }
            Card {
                objectName: "evidenceCard"
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.preferredWidth: 1
                spacing: Theme.space2

                SectionTitle {
                    text: qsTr("Quality, from your Compare votes")
                }
                Label {
                    visible: whatIf.evidence.length === 0
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    color: Theme.textMuted
                    text: qsTr("No votes for these models yet. Ask them the same question on the Compare page and vote for the best answer.")
                }
                Repeater {
                    model: whatIf.evidence
                    delegate: RowLayout {
                        id: vote
                        required property var modelData
                        Layout.fillWidth: true
                        spacing: Theme.space2
                        Label {
                            Layout.fillWidth: true
                            text: vote.modelData.candidate ? qsTr("%1 (candidate)").arg(vote.modelData.model) : vote.modelData.model
                            font.weight: vote.modelData.candidate ? Font.DemiBold : Font.Normal
                            color: Theme.text
                            elide: Text.ElideMiddle
                        }
                        Caption {
                            text: qsTr("won %1 of %2 rounds (%3)").arg(vote.modelData.wins).arg(vote.modelData.rounds).arg(Format.percent(vote.modelData.winRate))
                        }
                    }
                }
            }
        }
    }
}
