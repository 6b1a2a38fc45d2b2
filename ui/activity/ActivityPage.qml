pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Dialogs
import QtQuick.Layouts
import Gatehouse

// The request log, newest first and live: filters, search by request id, a detail pane with every
// logged field, export of the filtered rows to CSV. The model pages rows in from SQLite.
PageBase {
    id: page

    // Fixed column widths; the model column takes the rest. In a narrow table (the detail pane
    // open) the provider and latency columns step aside: the pane shows them.
    readonly property bool compact: tableArea.width < 1000
    // Narrower still (the minimum window size with the pane open): key and tokens step aside too.
    readonly property bool narrow: tableArea.width < 720
    readonly property int colTime: page.narrow ? 76 : 128 // narrow: "HH:mm:ss" fits, older dates elide
    readonly property int colKey: 120
    readonly property int colProvider: 110
    readonly property int colStatus: 76
    readonly property int colTokens: 120
    readonly property int colLatency: 80
    readonly property int colCost: 86
    readonly property int colInstance: 130
    // A team store: which instance served each request (the column; a click shows only its requests).
    readonly property bool team: page.backend !== null && page.backend.team.isTeam
    readonly property bool showInstance: page.team && !page.compact

    function instanceLabel(instance: string): string {
        if (instance.length === 0)
            return "—";
        return instance === page.backend.team.instanceId ? qsTr("this machine") : instance;
    }

    readonly property var timeRanges: [
        { label: qsTr("Any time"), ms: 0 },
        { label: qsTr("Last hour"), ms: 3600 * 1000 },
        { label: qsTr("Last 24 hours"), ms: 24 * 3600 * 1000 },
        { label: qsTr("Last 7 days"), ms: 7 * 24 * 3600 * 1000 },
        { label: qsTr("Last 30 days"), ms: 30 * 24 * 3600 * 1000 }
    ]

    function shortTime(ms: real): string {
        const d = new Date(ms);
        const today = new Date();
        return d.toDateString() === today.toDateString() ? Qt.formatDateTime(d, "HH:mm:ss")
                                                          : Qt.formatDateTime(d, "MMM d, HH:mm:ss");
    }
    function statusText(status: int, error: string): string {
        if (status === 0)
            return error.length > 0 ? qsTr("failed") : "—";
        return String(status);
    }

    // "session:<id>" (the Dashboard's "Sessions today"): the session's timeline, and its requests
    // alone in the table (the other filters cleared, so none of its requests is hidden).
    // "refused:<kind>" (the Dashboard's refusal count; kind empty for all): today's refusals.
    function runAction(action: string) {
        if (action.startsWith("refused:")) {
            const kind = action.slice("refused:".length);
            searchField.text = "";
            keyBox.reset();
            modelBox.reset();
            providerBox.reset();
            sessionBox.reset();
            activity.clearFilters();
            timeBox.currentIndex = 0;
            const midnight = new Date();
            midnight.setHours(0, 0, 0, 0);
            activity.fromMs = midnight.getTime();
            statusSwitch.current = "refused";
            refusalSwitch.current = kind.length > 0 ? kind : "any";
            return;
        }
        if (!action.startsWith("session:"))
            return;
        const session = action.slice("session:".length);
        if (session.length === 0)
            return;
        searchField.text = "";
        keyBox.reset();
        modelBox.reset();
        providerBox.reset();
        timeBox.currentIndex = 0;
        statusSwitch.current = "all";
        refusalSwitch.current = "any";
        activity.clearFilters();
        sessionBox.selected = session;
        sessionBox.refresh();
    }

    ActivityModel {
        id: activity
        backend: page.backend
        search: searchField.text.trim()
        keyFilter: keyBox.selected
        modelFilter: modelBox.selected
        providerFilter: providerBox.selected
        sessionFilter: sessionBox.selected
        statusFilter: statusSwitch.current
        refusalFilter: refusalSwitch.current === "any" ? "" : refusalSwitch.current
    }

    Connections {
        target: activity
        function onExportFinished(ok: bool, message: string, rows: int) {
            page.notify(ok ? (rows === 1 ? qsTr("Exported 1 request") : qsTr("Exported %1 requests").arg(Number(rows).toLocaleString(Qt.locale(), "f", 0))) : message, !ok);
        }
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
            title: qsTr("Activity")
            subtitle: activity.totalCount === 1 ? qsTr("One request, newest first; new ones appear as they finish.")
                                                : qsTr("%1 requests, newest first; new ones appear as they finish.")
                                                  .arg(Number(activity.totalCount).toLocaleString(Qt.locale(), "f", 0))

            TeamScopeToggle {
                backend: page.backend
            }
            BusyIndicator {
                running: activity.loading
                visible: activity.loading
                implicitWidth: 24
                implicitHeight: 24
                padding: 0
            }
            // While an export runs, the same button shows its progress and cancels it.
            AppButton {
                objectName: "exportCsv"
                text: activity.exporting ? qsTr("Cancel export (%1%)").arg(Math.floor(activity.exportProgress * 100))
                                         : qsTr("Export…")
                icon.source: Theme.icon("download")
                enabled: activity.totalCount > 0 || activity.exporting
                onClicked: activity.exporting ? activity.cancelExport() : exportDialog.open()
            }
        }

        // Filters: they wrap onto a second line in a narrow window (920 px wide) instead of
        // running off its right edge.
        Flow {
            Layout.fillWidth: true
            spacing: Theme.space2

            AppTextField {
                id: searchField
                objectName: "activitySearch"
                width: 220
                leftPadding: Theme.space3 + 22
                placeholderText: qsTr("Search request id")
                ToolTip.visible: searchField.hovered && searchField.text.length === 0
                ToolTip.delay: 600
                ToolTip.text: qsTr("Any part of a request id, as in the x-gatehouse-request-id header")
                font.family: searchField.text.length > 0 ? Theme.monoFamily : Theme.fontFamily
                Accessible.name: qsTr("Search by request id")
                Icon {
                    anchors.left: parent.left
                    anchors.leftMargin: Theme.space3
                    anchors.verticalCenter: parent.verticalCenter
                    iconName: "search"
                    size: 14
                    color: Theme.textFaint
                }
            }
            FilterBox {
                id: keyBox
                source: activity
                column: "key"
                allLabel: qsTr("All keys")
                Accessible.name: qsTr("Key")
            }
            FilterBox {
                id: modelBox
                source: activity
                column: "model"
                allLabel: qsTr("All models")
                Accessible.name: qsTr("Model")
            }
            FilterBox {
                id: providerBox
                source: activity
                column: "provider"
                allLabel: qsTr("All providers")
                Accessible.name: qsTr("Provider")
            }
            // Claude Code's sessions (x-claude-code-session-id); shown once the log has any.
            FilterBox {
                id: sessionBox
                visible: sessionBox.values.length > 0 || sessionBox.selected.length > 0
                implicitWidth: 130
                source: activity
                column: "session"
                allLabel: qsTr("All sessions")
                Accessible.name: qsTr("Session")
            }
            AppComboBox {
                id: timeBox
                width: 140
                model: page.timeRanges
                textRole: "label"
                Accessible.name: qsTr("Time range")
                onActivated: index => {
                    const span = page.timeRanges[index].ms;
                    activity.fromMs = span > 0 ? Date.now() - span : 0;
                    activity.toMs = 0;
                }
            }
            Segmented {
                id: statusSwitch
                objectName: "activityStatus"
                accessibleName: qsTr("Status")
                current: "all"
                options: [
                    { value: "all", label: qsTr("All") },
                    { value: "ok", label: qsTr("OK") },
                    { value: "error", label: qsTr("Errors") },
                    { value: "refused", label: qsTr("Refused") }
                ]
            }
            // Refusals by kind: what Gatehouse itself turned away, and why (the row's error).
            Segmented {
                id: refusalSwitch
                objectName: "activityRefusal"
                accessibleName: qsTr("Refusal kind")
                visible: statusSwitch.current === "refused"
                current: "any"
                options: [
                    { value: "any", label: qsTr("Any") },
                    { value: "budget", label: qsTr("Budget") },
                    { value: "policy", label: qsTr("Policy") },
                    { value: "secret", label: qsTr("Secret") },
                    { value: "guardrail", label: qsTr("Guardrail") }
                ]
            }
            AppButton {
                text: qsTr("Clear filters")
                variant: "ghost"
                visible: searchField.text.length > 0 || keyBox.selected.length > 0 || modelBox.selected.length > 0
                         || providerBox.selected.length > 0 || sessionBox.selected.length > 0 || timeBox.currentIndex > 0 || statusSwitch.current !== "all"
                onClicked: {
                    searchField.text = "";
                    keyBox.reset();
                    modelBox.reset();
                    providerBox.reset();
                    sessionBox.reset();
                    timeBox.currentIndex = 0;
                    statusSwitch.current = "all";
                    refusalSwitch.current = "any";
                    activity.clearFilters();
                }
            }
        }

        // A session picked (in its filter, or opened from the Dashboard): its timeline.
        SessionTimeline {
            objectName: "sessionTimeline"
            visible: sessionBox.selected.length > 0
            Layout.fillWidth: true
            Layout.preferredHeight: 210
            backend: page.backend
            session: sessionBox.selected
            onClosed: sessionBox.reset()
            onRequestPicked: requestId => activity.selectedRequest = requestId
        }

        RowLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: Theme.space4

            // The table
            TableFrame {
                id: tableArea
                Layout.fillWidth: true
                Layout.fillHeight: true

                // Column headers
                TableHeader {
                    Layout.fillWidth: true
                    ColumnHeader { Layout.preferredWidth: page.colTime; text: qsTr("Time") }
                    ColumnHeader { Layout.preferredWidth: page.colKey; visible: !page.narrow; text: qsTr("Key") }
                    ColumnHeader { Layout.fillWidth: true; Layout.minimumWidth: page.narrow ? 80 : 120; text: qsTr("Model") }
                    ColumnHeader { Layout.preferredWidth: page.colProvider; visible: !page.compact; text: qsTr("Provider") }
                    ColumnHeader { Layout.preferredWidth: page.colInstance; visible: page.showInstance; text: qsTr("Instance") }
                    ColumnHeader { Layout.preferredWidth: page.colStatus; text: qsTr("Status") }
                    ColumnHeader { Layout.preferredWidth: page.colTokens; visible: !page.narrow; text: qsTr("Tokens in / out"); horizontalAlignment: Text.AlignRight }
                    ColumnHeader { Layout.preferredWidth: page.colLatency; visible: !page.compact; text: qsTr("Latency"); horizontalAlignment: Text.AlignRight }
                    ColumnHeader { Layout.preferredWidth: page.colCost; text: qsTr("Cost"); horizontalAlignment: Text.AlignRight }
                }

                ListView {
                    id: table
                    objectName: "activityTable"
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    model: activity
                    clip: true
                    reuseItems: true
                    // The selected request's row, wherever filters and new rows move it.
                    currentIndex: activity.selectedRow
                    onCurrentIndexChanged: {
                        // Keyboard navigation moves the current row: the selection follows it.
                        if (table.currentIndex >= 0 && table.currentIndex !== activity.selectedRow) {
                            const id = activity.get(table.currentIndex).requestId;
                            if (id !== undefined)
                                activity.selectedRequest = id;
                        }
                    }
                    boundsBehavior: Flickable.StopAtBounds
                    keyNavigationEnabled: true
                    focus: true
                    activeFocusOnTab: true
                    highlightMoveDuration: 0
                    ScrollBar.vertical: ScrollBar {
                        policy: ScrollBar.AsNeeded
                    }
                    Accessible.role: Accessible.Table
                    Accessible.name: qsTr("Requests")

                    delegate: Rectangle {
                        id: row
                        required property int index
                        required property string requestId
                        required property real startedAt
                        required property string keyName
                        required property string model
                        required property string provider
                        required property string instance
                        required property int status
                        required property string error
                        required property string refusal
                        required property real latencyMs
                        required property real inputTokens
                        required property real outputTokens
                        required property real cacheReadTokens
                        required property real cost
                        required property bool estimated
                        required property bool ok
                        required property bool loaded

                        readonly property bool failed: !row.ok
                        readonly property bool selected: ListView.isCurrentItem

                        width: ListView.view.width
                        implicitHeight: 36
                        color: row.selected ? Theme.accentSoft : rowMouse.containsMouse ? Theme.surfaceHover : "transparent"
                        Accessible.role: Accessible.Row
                        Accessible.name: row.model + " " + page.statusText(row.status, row.error) + " " + Money.usd(row.cost)

                        MouseArea {
                            id: rowMouse
                            anchors.fill: parent
                            hoverEnabled: true
                            onClicked: {
                                activity.selectedRequest = row.requestId;
                                table.forceActiveFocus();
                            }
                        }

                        Rectangle {
                            anchors.bottom: parent.bottom
                            width: parent.width
                            height: 1
                            color: Theme.border
                            opacity: 0.6
                        }

                        // Shown while the row's page is being fetched
                        Rectangle {
                            visible: !row.loaded
                            anchors.verticalCenter: parent.verticalCenter
                            x: Theme.space4
                            width: parent.width * 0.55
                            height: 8
                            radius: 4
                            color: Theme.track
                        }

                        RowLayout {
                            visible: row.loaded
                            anchors.fill: parent
                            anchors.leftMargin: Theme.space4
                            anchors.rightMargin: Theme.space4
                            spacing: Theme.space3

                            Cell {
                                Layout.preferredWidth: page.colTime
                                text: page.shortTime(row.startedAt)
                                color: Theme.textMuted
                            }
                            Cell {
                                Layout.preferredWidth: page.colKey
                                visible: !page.narrow
                                text: row.keyName
                            }
                            Cell {
                                Layout.fillWidth: true
                                Layout.minimumWidth: page.narrow ? 80 : 120
                                text: row.model
                                font.family: Theme.monoFamily
                                font.pixelSize: Theme.fontSmall
                            }
                            Cell {
                                Layout.preferredWidth: page.colProvider
                                visible: !page.compact
                                text: row.provider
                                color: Theme.textMuted
                            }
                            // Click: only this instance's requests (the scope chip above undoes it).
                            Cell {
                                id: instanceCell
                                objectName: "instanceCell"
                                Layout.preferredWidth: page.colInstance
                                visible: page.showInstance
                                text: page.instanceLabel(row.instance)
                                color: instanceMouse.containsMouse ? Theme.accent : Theme.textMuted
                                font.underline: instanceMouse.containsMouse
                                MouseArea {
                                    id: instanceMouse
                                    anchors.fill: parent
                                    hoverEnabled: true
                                    enabled: row.instance.length > 0
                                    cursorShape: Qt.PointingHandCursor
                                    ToolTip.visible: instanceMouse.containsMouse
                                    ToolTip.delay: 500
                                    ToolTip.text: qsTr("Show only the requests %1 served").arg(row.instance)
                                    onClicked: page.backend.team.scope = row.instance === page.backend.team.instanceId ? "machine" : row.instance
                                }
                            }
                            Item {
                                Layout.preferredWidth: page.colStatus
                                implicitHeight: 20
                                StatusChip {
                                    id: statusChip
                                    anchors.verticalCenter: parent.verticalCenter
                                    text: row.refusal.length > 0 ? row.refusal : page.statusText(row.status, row.error)
                                    tone: row.refusal.length > 0 ? Theme.warning : row.failed ? Theme.danger : Theme.ok
                                }
                                // The guardrail marker: this request tripped one, or a pause refused it.
                                Icon {
                                    id: guardMarker
                                    objectName: "guardrailMarker"
                                    readonly property bool tripped: Guardrails.revision >= 0 && Guardrails.trippedBy(row.requestId)
                                    readonly property bool refused: row.error.startsWith("Gatehouse paused")
                                    anchors.left: statusChip.right
                                    anchors.leftMargin: Theme.space1
                                    anchors.verticalCenter: parent.verticalCenter
                                    visible: guardMarker.tripped || guardMarker.refused
                                    iconName: "alert"
                                    size: 14
                                    color: Theme.warning
                                    ToolTip.visible: guardHover.hovered
                                    ToolTip.text: guardMarker.tripped ? qsTr("This request tripped a guardrail (see Guardrails)")
                                                                      : qsTr("Refused: a guardrail paused this session or key")
                                    HoverHandler {
                                        id: guardHover
                                    }
                                }
                            }
                            Cell {
                                Layout.preferredWidth: page.colTokens
                                visible: !page.narrow
                                horizontalAlignment: Text.AlignRight
                                text: Format.tokens(row.inputTokens) + " / " + Format.tokens(row.outputTokens)
                            }
                            Cell {
                                Layout.preferredWidth: page.colLatency
                                visible: !page.compact
                                horizontalAlignment: Text.AlignRight
                                text: Format.duration(row.latencyMs)
                                color: Theme.textMuted
                            }
                            Cell {
                                Layout.preferredWidth: page.colCost
                                horizontalAlignment: Text.AlignRight
                                text: row.cost < 0 ? qsTr("unpriced") : (row.estimated ? "≈" : "") + Money.usd(row.cost)
                                color: row.cost < 0 ? Theme.textFaint : Theme.text
                                font.weight: Font.Medium
                            }
                        }
                    }

                    EmptyState {
                        anchors.centerIn: parent
                        width: Math.min(parent.width - 2 * Theme.space5, 460)
                        visible: table.count === 0 && !activity.loading
                        iconName: "activity"
                        title: activity.filtered ? qsTr("No requests match these filters") : qsTr("No requests yet")
                        text: qsTr("Requests through %1 show up here as soon as they finish.").arg(App.baseUrl)
                    }
                }
            }

            // Every logged field of the selected request
            Rectangle {
                id: detailPane
                objectName: "activityDetail"
                Layout.fillHeight: true
                Layout.preferredWidth: 340
                visible: activity.selectedRow >= 0
                radius: Theme.radius
                color: Theme.surface
                border.color: Theme.border

                // get() is not a binding source: `revision` re-reads the row when rows load or move.
                property int revision: 0
                readonly property var detail: detailPane.revision >= 0 && activity.selectedRow >= 0 && table.count > 0
                                              ? activity.get(activity.selectedRow) : ({})

                Connections {
                    target: activity
                    function onDataChanged() {
                        detailPane.revision++;
                    }
                    function onModelReset() {
                        detailPane.revision++;
                    }
                }
                // Every upstream attempt and skipped target (failover, capability skips).
                readonly property var attemptList: detailPane.detail.requestId !== undefined
                                                   ? activity.attemptsOf(detailPane.detail.requestId) : []
                readonly property var fields: {
                    const d = detailPane.detail;
                    if (d.requestId === undefined)
                        return [];
                    const rows = [
                        [qsTr("Time"), Format.dateTime(d.startedAt)],
                        [qsTr("Key"), d.keyName],
                        [qsTr("Model"), d.model],
                        [qsTr("Route"), (d.route ?? "").length > 0 ? d.route : qsTr("none")],
                        [qsTr("Served by"), (d.servedModel ?? "").length > 0 ? d.servedModel : "—"],
                        [qsTr("Provider"), d.provider],
                        [qsTr("Upstream model"), d.upstreamModel],
                        [qsTr("Status"), page.statusText(d.status, d.error ?? "")],
                        [qsTr("Refused"), (d.refusal ?? "").length > 0 ? qsTr("yes: %1 (the reason is the error below)").arg(d.refusal) : qsTr("no")],
                        [qsTr("Streamed"), d.stream ? qsTr("yes") : qsTr("no")],
                        [qsTr("Attempts"), String(d.attempts)],
                        [qsTr("Latency"), Format.duration(d.latencyMs)],
                        [qsTr("Time to first token"), Format.duration(d.ttftMs)],
                        [qsTr("Input tokens"), Number(d.inputTokens).toLocaleString(Qt.locale(), "f", 0)],
                        [qsTr("Output tokens"), Number(d.outputTokens).toLocaleString(Qt.locale(), "f", 0)],
                        [qsTr("Cache read tokens"), Number(d.cacheReadTokens).toLocaleString(Qt.locale(), "f", 0)],
                        [qsTr("Cache write tokens"), Number(d.cacheWriteTokens).toLocaleString(Qt.locale(), "f", 0)],
                        [qsTr("Cost"), d.cost < 0 ? qsTr("unpriced") : Money.usd(d.cost) + (d.estimated ? qsTr(" (estimated)") : "")]
                    ];
                    if (page.team)
                        rows.splice(1, 0, [qsTr("Instance"), (d.instance ?? "").length > 0
                                           ? d.instance + (d.instance === page.backend.team.instanceId ? qsTr(" (this machine)") : "") : "—"]);
                    return rows;
                }

                ColumnLayout {
                    anchors.fill: parent
                    anchors.margins: Theme.space4
                    spacing: Theme.space3

                    RowLayout {
                        Layout.fillWidth: true
                        SectionTitle {
                            Layout.fillWidth: true
                            text: qsTr("Request")
                        }
                        IconButton {
                            iconName: "close"
                            tip: qsTr("Close the details")
                            onClicked: activity.selectedRequest = ""
                        }
                    }
                    CodeBlock {
                        Layout.fillWidth: true
                        text: detailPane.detail.requestId ?? ""
                        copyTip: qsTr("Copy the request id")
                        onCopied: page.notify(qsTr("Request id copied"), false)
                    }
                    Rectangle {
                        Layout.fillWidth: true
                        visible: (detailPane.detail.error ?? "").length > 0
                        implicitHeight: errorText.implicitHeight + 2 * Theme.space3
                        radius: Theme.radiusSmall
                        color: Theme.dangerSoft
                        Label {
                            id: errorText
                            anchors.fill: parent
                            anchors.margins: Theme.space3
                            wrapMode: Text.Wrap
                            text: detailPane.detail.error ?? ""
                            color: Theme.danger
                            font.pixelSize: Theme.fontSmall
                        }
                    }
                    ScrollView {
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        contentWidth: availableWidth
                        clip: true

                        // Rows in a positioner (see TopSpendList: Quick Layouts and Repeater resets)
                        Column {
                            id: fieldRows
                            width: parent.width
                            spacing: Theme.space2

                            Repeater {
                                model: detailPane.fields.length
                                delegate: RowLayout {
                                    id: fieldRow
                                    required property int index
                                    readonly property list<string> field: detailPane.fields[fieldRow.index] ?? ["", ""]
                                    width: fieldRows.width
                                    spacing: Theme.space3

                                    Label {
                                        Layout.alignment: Qt.AlignTop
                                        text: fieldRow.field[0]
                                        font.pixelSize: Theme.fontSmall
                                        color: Theme.textMuted
                                    }
                                    Label {
                                        Layout.fillWidth: true
                                        text: fieldRow.field[1]
                                        font.pixelSize: Theme.fontBody
                                        color: Theme.text
                                        horizontalAlignment: Text.AlignRight
                                        wrapMode: Text.WrapAnywhere
                                    }
                                }
                            }

                            SectionTitle {
                                width: fieldRows.width
                                visible: detailPane.attemptList.length > 1
                                topPadding: Theme.space3
                                text: qsTr("Attempts")
                            }
                            Repeater {
                                model: detailPane.attemptList.length > 1 ? detailPane.attemptList : []
                                delegate: Column {
                                    id: attemptRow
                                    required property var modelData
                                    width: fieldRows.width
                                    spacing: 2

                                    RowLayout {
                                        width: attemptRow.width
                                        spacing: Theme.space2
                                        StatusChip {
                                            text: attemptRow.modelData.outcome === "ok" ? qsTr("served")
                                                : attemptRow.modelData.outcome === "skipped" ? qsTr("skipped")
                                                : (attemptRow.modelData.status > 0 ? String(attemptRow.modelData.status) : qsTr("failed"))
                                            tone: attemptRow.modelData.outcome === "ok" ? Theme.ok
                                                : attemptRow.modelData.outcome === "skipped" ? Theme.textFaint : Theme.danger
                                        }
                                        Label {
                                            Layout.fillWidth: true
                                            text: attemptRow.modelData.model
                                            font.family: Theme.monoFamily
                                            font.pixelSize: Theme.fontSmall
                                            color: Theme.text
                                            elide: Text.ElideRight
                                        }
                                        Label {
                                            visible: attemptRow.modelData.outcome !== "skipped"
                                            text: Format.duration(attemptRow.modelData.latencyMs)
                                            font.pixelSize: Theme.fontSmall
                                            color: Theme.textMuted
                                        }
                                    }
                                    Label {
                                        width: attemptRow.width
                                        visible: attemptRow.modelData.error.length > 0
                                        text: attemptRow.modelData.error
                                        wrapMode: Text.Wrap
                                        font.pixelSize: Theme.fontSmall
                                        color: Theme.textMuted
                                    }
                                }
                            }

                            // [capture] The request's bodies when its key captures them (CapturedBodies.qml).
                            CapturedBodies {
                                width: fieldRows.width
                                backend: page.backend
                                requestId: detailPane.detail.requestId ?? ""
                                onCopied: what => page.notify(qsTr("%1 body copied").arg(what), false)
                            }
                        }
                    }
                }
            }
        }
    }

    FileDialog {
        id: exportDialog
        title: qsTr("Export the filtered requests")
        fileMode: FileDialog.SaveFile
        defaultSuffix: selectedNameFilter.index === 1 ? "jsonl" : "csv"
        nameFilters: [qsTr("CSV files (*.csv)"), qsTr("JSON Lines (*.jsonl)")]
        onAccepted: {
            const jsonl = selectedNameFilter.index === 1 || String(exportDialog.selectedFile).toLowerCase().endsWith(".jsonl");
            if (!activity.exportTo(exportDialog.selectedFile, jsonl ? "jsonl" : "csv"))
                page.notify(qsTr("Could not create %1").arg(decodeURIComponent(String(exportDialog.selectedFile).replace(/^file:\/\//, ""))), true);
        }
    }
}
