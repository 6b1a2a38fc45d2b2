pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// One pane of the Compare page: its model picker, system prompt and temperature, its transcript,
// and stop / regenerate for its own answer.
Rectangle {
    id: pane

    required property CompareSession session
    required property int paneIndex
    required property string paneModel
    required property string system
    required property real temperature
    required property bool streaming
    required property ChatModel chat

    signal copied()

    color: Theme.surface
    radius: Theme.radius
    border.color: Theme.border
    clip: true

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.space3
        spacing: Theme.space2

        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.space1

            Rectangle {
                implicitWidth: 8
                implicitHeight: 8
                radius: 4
                color: Theme.seriesColor(pane.paneIndex)
            }
            AppComboBox {
                id: picker
                Layout.fillWidth: true
                Layout.leftMargin: Theme.space1
                // Any model id or route alias the gateway offers; a remembered one that is gone stays listed.
                model: pane.session.availableModels.length >= 0 ? pane.session.pickerModels(pane.paneModel) : [] // re-read when the list changes
                currentIndex: picker.indexOfValue(pane.paneModel)
                displayText: pane.paneModel.length > 0 ? pane.paneModel : qsTr("Choose a model")
                enabled: !pane.streaming
                Accessible.name: qsTr("Model of pane %1").arg(pane.paneIndex + 1)
                onActivated: index => pane.session.setPaneModel(pane.paneIndex, picker.textAt(index))
            }
            IconButton {
                iconName: "settings"
                tip: qsTr("System prompt and temperature")
                highlighted: pane.system.length > 0 || pane.temperature >= 0
                onClicked: settings.open()
            }
            IconButton {
                visible: pane.streaming
                iconName: "pause"
                tip: qsTr("Stop this answer")
                onClicked: pane.session.stop(pane.paneIndex)
            }
            IconButton {
                visible: !pane.streaming && pane.session.round > 0
                iconName: "sparkles"
                tip: qsTr("Regenerate this answer")
                onClicked: pane.session.regenerate(pane.paneIndex)
            }
            IconButton {
                visible: pane.session.round === 0 && pane.session.panes.count > 1
                iconName: "close"
                tip: qsTr("Remove this pane")
                onClicked: pane.session.removePane(pane.paneIndex)
            }
        }
        Caption {
            Layout.fillWidth: true
            visible: pane.system.length > 0 || pane.temperature >= 0
            text: {
                const parts = [];
                if (pane.system.length > 0)
                    parts.push(qsTr("System: %1").arg(pane.system));
                if (pane.temperature >= 0)
                    parts.push(qsTr("temperature %1").arg(pane.temperature.toFixed(1)));
                return parts.join(" · ");
            }
            elide: Text.ElideRight
            color: Theme.textFaint
        }
        Divider {
            Layout.fillWidth: true
        }

        ListView {
            id: transcript
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: Theme.space3
            model: pane.chat
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar {}
            // Follows a streaming answer unless the reader scrolled up.
            property bool following: true
            onMovementEnded: transcript.following = transcript.atYEnd
            onContentHeightChanged: if (transcript.following) transcript.positionViewAtEnd()
            onCountChanged: {
                transcript.following = true;
                transcript.positionViewAtEnd();
            }

            delegate: CompareMessage {
                width: transcript.width - Theme.space2
                canVote: pane.session.panes.count > 1
                onVoteRequested: round => pane.session.vote(round, pane.paneIndex)
                onCopied: pane.copied()
            }

            Label {
                anchors.centerIn: parent
                width: parent.width - 2 * Theme.space4
                visible: transcript.count === 0
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                text: pane.paneModel.length > 0 ? qsTr("%1 answers here.").arg(pane.paneModel) : qsTr("Choose a model above.")
                color: Theme.textFaint
            }
        }
    }

    Popup {
        id: settings
        x: pane.width - width - Theme.space3
        y: 44
        width: Math.min(360, pane.width - 2 * Theme.space3)
        padding: Theme.space4
        modal: false
        focus: true
        onAboutToShow: {
            systemField.text = pane.system;
            defaultTemperature.checked = pane.temperature < 0;
            temperatureSlider.value = pane.temperature < 0 ? 1.0 : pane.temperature;
        }
        onClosed: {
            pane.session.setPaneSystem(pane.paneIndex, systemField.text);
            pane.session.setPaneTemperature(pane.paneIndex, defaultTemperature.checked ? -1 : temperatureSlider.value);
        }
        background: Rectangle {
            color: Theme.surface
            radius: Theme.radius
            border.color: Theme.borderStrong
        }

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.space2

            Caption {
                text: qsTr("System prompt")
            }
            ScrollView {
                Layout.fillWidth: true
                Layout.preferredHeight: 96
                TextArea {
                    id: systemField
                    placeholderText: qsTr("Optional: how this model should answer")
                    wrapMode: TextArea.Wrap
                    color: Theme.text
                    placeholderTextColor: Theme.textFaint
                    font.pixelSize: Theme.fontBody
                    background: Rectangle {
                        color: Theme.inputBackground
                        radius: Theme.radiusSmall
                        border.color: systemField.activeFocus ? Theme.accent : Theme.borderStrong
                    }
                }
            }
            RowLayout {
                Layout.fillWidth: true
                Caption {
                    Layout.fillWidth: true
                    text: defaultTemperature.checked ? qsTr("Temperature: the model's default")
                                                     : qsTr("Temperature: %1").arg(temperatureSlider.value.toFixed(1))
                }
                AppSwitch {
                    id: defaultTemperature
                    text: qsTr("Default")
                }
            }
            Slider {
                id: temperatureSlider
                Layout.fillWidth: true
                enabled: !defaultTemperature.checked
                from: 0
                to: 2
                stepSize: 0.1
                Accessible.name: qsTr("Temperature")
            }
        }
    }
}
