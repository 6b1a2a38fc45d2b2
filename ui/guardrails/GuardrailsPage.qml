pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// The guardrails (docs/guardrails.md): every trip with its evidence (the repeated request hashes,
// the spend per minute around it, what the scope had spent), Resume / Keep paused on a pause in
// force, and each key's mode per detector (off, alert, pause).
PageBase {
    id: page

    readonly property var detectorLabels: ({ repetition: qsTr("Repetition"), velocity: qsTr("Spend velocity"), blowup: qsTr("Token blow-up") })
    readonly property var modeOptions: [
        { value: "off", label: qsTr("Off") },
        { value: "alert", label: qsTr("Alert") },
        { value: "pause", label: qsTr("Pause") }
    ]

    function timeText(ms: real): string {
        const d = new Date(ms);
        const today = new Date();
        return d.toDateString() === today.toDateString() ? Qt.formatTime(d, "HH:mm:ss") : Qt.formatDateTime(d, "d MMM HH:mm");
    }

    GuardrailTripsModel {
        id: trips
        objectName: "guardrailTrips"
        center: Guardrails
    }

    ScrollPage {
        id: scroll
        anchors.fill: parent
        maxContentWidth: 1320
        contentSpacing: Theme.space4

        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Guardrails")
            subtitle: qsTr("Loops, spend spikes and runaway prompts stopped as they happen, with what gave them away.")

            StatusChip {
                objectName: "pausedChip"
                text: Guardrails.activePauses === 1 ? qsTr("1 pause in force") : qsTr("%1 pauses in force").arg(Guardrails.activePauses)
                tone: Guardrails.activePauses > 0 ? Theme.danger : Theme.ok
            }
        }

        EmptyState {
            Layout.fillWidth: true
            visible: trips.count === 0
            iconName: "check"
            title: qsTr("No guardrail has tripped")
            text: qsTr("Gatehouse watches every request for an agent stuck in a loop, spend far above a key's usual rate and prompts that fill the context window with nothing coming back. What it finds shows here.")
        }

        // The trips, newest first (rows in a positioner, see TopSpendList)
        Column {
            id: tripColumn
            Layout.fillWidth: true
            spacing: Theme.space4
            visible: trips.count > 0

            Repeater {
                model: trips
                delegate: Card {
                    id: tripCard
                    required property real tripId
                    required property real keyId
                    required property string keyName
                    required property string session
                    required property string detector
                    required property bool paused
                    required property bool active
                    required property string summary
                    required property list<string> evidence
                    required property list<string> hashes
                    required property real costSoFar
                    required property real at
                    required property string requestId
                    required property real endedAt
                    required property string endedBy
                    required property real keptAt
                    required property list<real> curve

                    objectName: "trip_" + tripCard.tripId
                    width: tripColumn.width
                    spacing: Theme.space3

                    RowLayout {
                        Layout.fillWidth: true
                        spacing: Theme.space3

                        StatusChip {
                            text: tripCard.active ? qsTr("Paused") : tripCard.paused ? qsTr("Resumed") : qsTr("Alert")
                            tone: tripCard.active ? Theme.danger : tripCard.paused ? Theme.ok : Theme.warning
                        }
                        Label {
                            text: page.detectorLabels[tripCard.detector] ?? tripCard.detector
                            font.pixelSize: Theme.fontTitle
                            font.weight: Font.DemiBold
                            color: Theme.text
                        }
                        Caption {
                            Layout.fillWidth: true
                            elide: Text.ElideRight
                            text: (tripCard.session.length > 0 ? qsTr("key %1 · session %2").arg(tripCard.keyName).arg(tripCard.session)
                                                               : qsTr("key %1 · the whole key").arg(tripCard.keyName))
                                  + " · " + page.timeText(tripCard.at)
                        }
                        ColumnLayout {
                            spacing: 0
                            Caption {
                                Layout.alignment: Qt.AlignRight
                                text: qsTr("spent so far")
                            }
                            Label {
                                Layout.alignment: Qt.AlignRight
                                text: Format.usd(tripCard.costSoFar)
                                font.pixelSize: Theme.fontTitle
                                font.weight: Font.DemiBold
                                color: Theme.text
                            }
                        }
                    }

                    Label {
                        Layout.fillWidth: true
                        text: tripCard.summary
                        wrapMode: Text.Wrap
                        color: Theme.text
                    }

                    RowLayout {
                        Layout.fillWidth: true
                        spacing: Theme.space5

                        // The rate curve: spend per minute of the key or session around the trip.
                        ColumnLayout {
                            Layout.alignment: Qt.AlignTop
                            spacing: Theme.space1
                            Caption {
                                text: qsTr("Spend per minute, 30 min before to 5 after")
                            }
                            Sparkline {
                                Layout.preferredWidth: 252
                                Layout.preferredHeight: 44
                                values: tripCard.curve
                                color: tripCard.active ? Theme.danger : Theme.accent
                                Accessible.name: qsTr("Spend per minute around the trip")
                            }
                        }
                        ColumnLayout {
                            Layout.alignment: Qt.AlignTop
                            Layout.fillWidth: true
                            spacing: Theme.space1
                            visible: tripCard.hashes.length > 0
                            Caption {
                                text: qsTr("Request hashes (the repeated one first)")
                            }
                            Flow {
                                Layout.fillWidth: true
                                spacing: Theme.space1
                                Repeater {
                                    model: tripCard.hashes
                                    delegate: Rectangle {
                                        id: hashChip
                                        required property string modelData
                                        required property int index
                                        implicitWidth: hashText.implicitWidth + 2 * Theme.space2
                                        implicitHeight: hashText.implicitHeight + Theme.space1
                                        radius: Theme.radiusSmall
                                        color: hashChip.index === 0 ? Theme.dangerSoft : Theme.surfaceAlt
                                        border.color: Theme.border
                                        Label {
                                            id: hashText
                                            anchors.centerIn: parent
                                            text: hashChip.modelData.slice(0, 12)
                                            font.family: Theme.monoFamily
                                            font.pixelSize: Theme.fontSmall
                                            color: Theme.text
                                        }
                                    }
                                }
                            }
                        }
                        ColumnLayout {
                            Layout.alignment: Qt.AlignTop
                            Layout.preferredWidth: 260
                            spacing: 2
                            Caption {
                                text: qsTr("Evidence")
                            }
                            Repeater {
                                model: tripCard.evidence
                                delegate: Caption {
                                    id: evidenceLine
                                    required property string modelData
                                    Layout.fillWidth: true
                                    elide: Text.ElideRight
                                    text: evidenceLine.modelData
                                }
                            }
                        }
                    }

                    RowLayout {
                        Layout.fillWidth: true
                        spacing: Theme.space2

                        Caption {
                            Layout.fillWidth: true
                            elide: Text.ElideRight
                            text: tripCard.endedAt > 0
                                  ? qsTr("Resumed %1 from %2 · request %3").arg(page.timeText(tripCard.endedAt))
                                        .arg(tripCard.endedBy === "window" ? qsTr("this window") : qsTr("the API"))
                                        .arg(tripCard.requestId)
                                  : tripCard.keptAt > 0 ? qsTr("Kept paused %1 · request %2").arg(page.timeText(tripCard.keptAt)).arg(tripCard.requestId)
                                  : qsTr("Request %1").arg(tripCard.requestId)
                        }
                        AppButton {
                            objectName: "keepButton"
                            visible: tripCard.active
                            enabled: tripCard.keptAt <= 0
                            text: tripCard.keptAt > 0 ? qsTr("Kept paused") : qsTr("Keep paused")
                            onClicked: Guardrails.keepPaused(tripCard.tripId)
                        }
                        AppButton {
                            objectName: "resumeButton"
                            visible: tripCard.active
                            variant: "primary"
                            text: tripCard.session.length > 0 ? qsTr("Resume session") : qsTr("Resume key")
                            onClicked: {
                                const lifted = Guardrails.resume(tripCard.keyId, tripCard.session);
                                page.notify(lifted > 0 ? qsTr("Resumed: requests go through again") : qsTr("Nothing was paused any more"), false);
                            }
                        }
                    }
                }
            }
        }

        // Each key's mode per detector
        Card {
            id: modesCard
            Layout.fillWidth: true
            spacing: Theme.space3

            readonly property var keys: Guardrails.revision >= 0 ? Guardrails.keyModes() : []

            SectionTitle {
                Layout.fillWidth: true
                text: qsTr("What a trip does, per key")
            }
            Caption {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                text: qsTr("Alert: a notification and a line in the log. Pause: the session (or key) is refused with a clear error until you resume it. The thresholds are in the config's settings.guardrails.")
            }
            EmptyState {
                Layout.fillWidth: true
                visible: modesCard.keys.length === 0
                iconName: "key"
                title: qsTr("No keys yet")
                text: qsTr("Create a key for a tool; its guardrails show here.")
            }
            // A table: the detectors are the columns, named once above them, so a row is a key's name
            // and its three switches, and it fits the window's minimum width without wrapping.
            Segmented {
                id: segmentProbe // measures a switch for the column widths; never shown
                visible: false
                options: page.modeOptions
            }
            ColumnLayout {
                id: modeRows
                Layout.fillWidth: true
                visible: modesCard.keys.length > 0
                spacing: Theme.space2
                RowLayout {
                    Layout.fillWidth: true
                    spacing: Theme.space3
                    Caption {
                        Layout.fillWidth: true
                        text: qsTr("Key")
                    }
                    Repeater {
                        model: ["repetition", "velocity", "blowup"]
                        delegate: Caption {
                            required property string modelData
                            Layout.preferredWidth: segmentProbe.implicitWidth
                            text: page.detectorLabels[modelData]
                            elide: Text.ElideRight
                        }
                    }
                }
                Repeater {
                    model: modesCard.keys
                    delegate: RowLayout {
                        id: modeRow
                        required property var modelData
                        Layout.fillWidth: true
                        spacing: Theme.space3
                        Label {
                            Layout.fillWidth: true
                            Layout.minimumWidth: 60
                            text: modeRow.modelData.name
                            elide: Text.ElideRight
                            color: Theme.text
                        }
                        Repeater {
                            model: ["repetition", "velocity", "blowup"]
                            delegate: Segmented {
                                id: modeSwitch
                                required property string modelData
                                Layout.preferredWidth: segmentProbe.implicitWidth
                                accessibleName: qsTr("%1 of %2").arg(page.detectorLabels[modeSwitch.modelData]).arg(modeRow.modelData.name)
                                options: page.modeOptions
                                current: modeRow.modelData[modeSwitch.modelData]
                                onCurrentChanged: {
                                    if (modeSwitch.current !== modeRow.modelData[modeSwitch.modelData]
                                            && !Guardrails.setKeyMode(modeRow.modelData.name, modeSwitch.modelData, modeSwitch.current))
                                        page.notify(qsTr("The mode could not be saved"), true);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
