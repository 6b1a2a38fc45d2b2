pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// "What Gatehouse keeps" (docs/capture.md): each file of the data folder, what it holds and for how long.
Card {
    id: inventory

    property string dataDir: ""

    spacing: Theme.space3

    SectionTitle {
        text: qsTr("What Gatehouse keeps")
    }
    Label {
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: Theme.textMuted
        font.pixelSize: Theme.fontSmall
        text: qsTr("Prompts and answers are not stored unless a key captures them. Everything is in %1.").arg(inventory.dataDir)
    }

    Repeater {
        model: [
            { file: "gatehouse.db", what: qsTr("One row per request (time, key, model, tokens, cost, status, secret findings as rule and position) and its hourly and daily sums; keys as hashes, providers, models, routes, settings; guardrail trips; the audit trail. No prompt or answer."), kept: qsTr("Until you clear the log or delete a key's data; the audit trail always.") },
            { file: "gatehouse.db.journal.d", what: qsTr("Request rows not written to the database yet, so a crash loses none."), kept: qsTr("Until written.") },
            { file: "response-cache.db", what: qsTr("Answers of the response cache, compressed, for keys and routes that enable it."), kept: qsTr("Their time to live, within the cache's size cap.") },
            { file: "captures.db", what: qsTr("Request and response bodies, compressed, for keys with capture on; every secret the scanner recognises replaced by its placeholder."), kept: qsTr("The key's retention in days, then deleted (checked every hour).") }
        ]
        delegate: ColumnLayout {
            id: entry
            required property var modelData
            Layout.fillWidth: true
            spacing: 2

            Label {
                Layout.fillWidth: true
                text: entry.modelData.file
                font.family: Theme.monoFamily
                font.pixelSize: Theme.fontSmall
                color: Theme.text
            }
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                text: entry.modelData.what
                font.pixelSize: Theme.fontSmall
                color: Theme.textMuted
            }
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                text: qsTr("Kept: %1").arg(entry.modelData.kept)
                font.pixelSize: Theme.fontSmall
                color: Theme.textFaint
            }
        }
    }
}
