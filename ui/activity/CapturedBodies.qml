pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// The captured request and response of the selected request (docs/capture.md), highlighted JSON;
// nothing when its key does not capture bodies.
Column {
    id: bodies

    property Backend backend
    property string requestId: ""
    signal copied(string what)

    spacing: Theme.space2
    visible: view.available

    CaptureView {
        id: view
        backend: bodies.backend
        requestId: bodies.requestId
        keyColor: Theme.accent
        stringColor: Theme.ok
        numberColor: Theme.warning
        literalColor: Theme.danger
        mutedColor: Theme.textFaint
    }

    SectionTitle {
        width: bodies.width
        topPadding: Theme.space3
        text: qsTr("Captured bodies")
    }
    Label {
        width: bodies.width
        visible: view.note.length > 0
        text: view.note
        wrapMode: Text.Wrap
        font.pixelSize: Theme.fontSmall
        color: Theme.textMuted
    }

    Repeater {
        model: [
            { title: qsTr("Request"), html: view.requestHtml, raw: view.request },
            { title: qsTr("Response"), html: view.responseHtml, raw: view.response }
        ]
        delegate: Column {
            id: part
            required property var modelData
            width: bodies.width
            spacing: Theme.space1

            RowLayout {
                width: part.width
                Label {
                    Layout.fillWidth: true
                    text: part.modelData.title
                    font.pixelSize: Theme.fontSmall
                    font.bold: true
                    color: Theme.textMuted
                }
                IconButton {
                    iconName: "copy"
                    enabled: part.modelData.raw.length > 0
                    tip: qsTr("Copy the %1 body").arg(part.modelData.title.toLowerCase())
                    onClicked: {
                        App.copyToClipboard(part.modelData.raw);
                        bodies.copied(part.modelData.title);
                    }
                }
            }
            Rectangle {
                width: part.width
                implicitHeight: Math.min(320, bodyText.implicitHeight + 2 * Theme.space2)
                height: implicitHeight
                radius: Theme.radiusSmall
                color: Theme.surfaceAlt
                border.color: Theme.border
                clip: true

                Flickable {
                    anchors.fill: parent
                    anchors.margins: Theme.space2
                    contentHeight: bodyText.implicitHeight
                    boundsBehavior: Flickable.StopAtBounds
                    ScrollBar.vertical: ScrollBar {}

                    TextEdit {
                        id: bodyText
                        width: parent.width
                        readOnly: true
                        selectByMouse: true
                        textFormat: TextEdit.RichText
                        wrapMode: TextEdit.WrapAnywhere
                        text: part.modelData.html.length > 0 ? part.modelData.html : qsTr("(empty)")
                        font.family: Theme.monoFamily
                        font.pixelSize: Theme.fontSmall
                        color: Theme.text
                        selectionColor: Theme.accent
                        selectedTextColor: Theme.textOnAccent
                    }
                }
            }
        }
    }
}
