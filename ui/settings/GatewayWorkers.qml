pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// Settings › Gateway › "Gateway workers": Automatic (one per core) or a fixed number, saved and
// used from the next start (the running pool is not resized under its connections).
ColumnLayout {
    id: section

    required property Backend backend

    Layout.fillWidth: true
    spacing: Theme.space2

    WorkersSetting {
        id: workers
        backend: section.backend
    }

    SettingRow {
        title: qsTr("Gateway workers")
        description: workers.fromCommandLine
                     ? qsTr("Serving now: %1, as --workers (or GATEHOUSE_WORKERS) asked; the choice here applies when Gatehouse starts without it.").arg(workers.serving)
                     : qsTr("Threads that serve your tools' requests; one per core suits most machines. Serving now: %1.").arg(workers.serving)

        AppComboBox {
            id: workersBox
            objectName: "workersBox"
            Layout.preferredWidth: 190
            // Index 0 is Automatic, index n is n workers.
            model: {
                const choices = [qsTr("Automatic (%1 cores)").arg(workers.cores)];
                for (let n = 1; n <= workers.cores; ++n)
                    choices.push(String(n));
                return choices;
            }
            currentIndex: Math.min(workers.stored, workers.cores)
            Accessible.name: qsTr("Gateway workers")
            onActivated: index => workers.apply(index)
        }
    }
    Label {
        objectName: "workersNote"
        Layout.fillWidth: true
        visible: workers.restartNeeded || workers.error.length > 0
        text: workers.error.length > 0 ? workers.error
                                       : qsTr("Saved: takes effect the next time Gatehouse starts.")
        wrapMode: Text.Wrap
        color: workers.error.length > 0 ? Theme.danger : Theme.textMuted
        font.pixelSize: Theme.fontSmall
    }
}
