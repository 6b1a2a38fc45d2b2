pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Dialogs
import QtQuick.Layouts
import Gatehouse

// The audit trail (docs/capture.md): the latest control-plane changes with their origin and old → new
// values, and its export as CSV or JSON Lines.
Card {
    id: trail

    property Backend backend
    signal notify(string message, bool error)

    spacing: Theme.space3

    // Re-read whenever the page is shown again (changes happen on the other pages).
    onVisibleChanged: if (visible) audit.reload()

    AuditModel {
        id: audit
        backend: trail.backend
        limit: 50
        onExportFinished: (ok, message) => trail.notify(message, !ok)
    }

    RowLayout {
        Layout.fillWidth: true
        SectionTitle {
            Layout.fillWidth: true
            text: qsTr("Audit trail")
        }
        AppButton {
            text: qsTr("Export…")
            icon.source: Theme.icon("download")
            enabled: audit.count > 0
            onClicked: auditExport.open()
        }
    }
    Label {
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: Theme.textMuted
        font.pixelSize: Theme.fontSmall
        text: qsTr("Every change to keys, limits, providers, models, routes, settings and pauses, with where it came from. Secrets are never recorded.")
    }
    Label {
        visible: audit.count === 0
        text: qsTr("No changes recorded yet.")
        color: Theme.textFaint
        font.pixelSize: Theme.fontSmall
    }

    Repeater {
        model: audit
        delegate: ColumnLayout {
            id: change
            required property double atMs
            required property string origin
            required property string action
            required property string subject
            required property string summary
            Layout.fillWidth: true
            spacing: 2

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.space2
                StatusChip {
                    text: change.origin
                    tone: change.origin === "window" ? Theme.accent : change.origin === "config" ? Theme.ok : Theme.warning
                }
                Label {
                    Layout.fillWidth: true
                    text: change.subject.length > 0 ? "%1 · %2".arg(change.action).arg(change.subject) : change.action
                    font.family: Theme.monoFamily
                    font.pixelSize: Theme.fontSmall
                    color: Theme.text
                    elide: Text.ElideRight
                }
                Label {
                    text: Format.dateTime(change.atMs)
                    font.pixelSize: Theme.fontSmall
                    color: Theme.textMuted
                }
            }
            Label {
                Layout.fillWidth: true
                visible: change.summary.length > 0
                text: change.summary
                wrapMode: Text.WrapAnywhere
                maximumLineCount: 3
                elide: Text.ElideRight
                font.pixelSize: Theme.fontSmall
                color: Theme.textMuted
            }
        }
    }

    FileDialog {
        id: auditExport
        title: qsTr("Export the audit trail")
        fileMode: FileDialog.SaveFile
        defaultSuffix: selectedNameFilter.index === 1 ? "jsonl" : "csv"
        nameFilters: [qsTr("CSV files (*.csv)"), qsTr("JSON Lines (*.jsonl)")]
        onAccepted: {
            const jsonl = selectedNameFilter.index === 1 || String(auditExport.selectedFile).toLowerCase().endsWith(".jsonl");
            audit.exportTo(auditExport.selectedFile, jsonl ? "jsonl" : "csv");
        }
    }
}
