pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Dialogs
import QtQuick.Layouts
import Gatehouse

// Compare: ask 1 to 4 models the same thing side by side, through the gateway with the built-in key
// "Gatehouse Chat"; see each answer's speed, tokens and cost, and vote for the best one. Saved
// conversations are listed on the left.
PageBase {
    id: page

    CompareSession {
        id: session
        backend: page.backend
        onNotify: (message, isError) => page.notify(message, isError)
    }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        // Saved conversations
        Rectangle {
            Layout.fillHeight: true
            Layout.preferredWidth: 232
            color: Theme.surface

            Rectangle {
                anchors.right: parent.right
                width: 1
                height: parent.height
                color: Theme.border
            }

            ColumnLayout {
                anchors.fill: parent
                anchors.topMargin: Theme.space5
                anchors.bottomMargin: Theme.space3
                spacing: Theme.space2

                RowLayout {
                    Layout.fillWidth: true
                    Layout.leftMargin: Theme.space4
                    Layout.rightMargin: Theme.space3
                    Label {
                        Layout.fillWidth: true
                        text: qsTr("Conversations")
                        font.pixelSize: Theme.fontTitle
                        font.weight: Font.DemiBold
                        color: Theme.text
                    }
                    IconButton {
                        iconName: "plus"
                        tip: qsTr("New conversation")
                        enabled: session.round > 0
                        onClicked: session.newConversation()
                    }
                }

                ListView {
                    id: conversationList
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    clip: true
                    model: session.conversations
                    spacing: 2
                    ScrollBar.vertical: ScrollBar {}

                    delegate: ItemDelegate {
                        id: entry
                        required property string conversationId
                        required property string title
                        required property real updatedAt
                        required property string models
                        required property bool current
                        width: conversationList.width
                        leftPadding: Theme.space4
                        rightPadding: Theme.space2
                        topPadding: Theme.space2
                        bottomPadding: Theme.space2
                        highlighted: entry.current
                        HoverHandler {
                            id: entryHover
                        }
                        onClicked: if (!entry.current) session.openConversation(entry.conversationId)
                        Accessible.name: entry.title

                        background: Rectangle {
                            color: entry.current ? Theme.accentSoft : entryHover.hovered ? Theme.surfaceHover : "transparent"
                        }
                        contentItem: RowLayout {
                            spacing: Theme.space1
                            ColumnLayout {
                                Layout.fillWidth: true
                                spacing: 1
                                Label {
                                    Layout.fillWidth: true
                                    text: entry.title
                                    elide: Text.ElideRight
                                    color: Theme.text
                                    font.weight: entry.current ? Font.DemiBold : Font.Normal
                                }
                                Label {
                                    Layout.fillWidth: true
                                    text: Format.dateTime(entry.updatedAt) + " · " + entry.models
                                    elide: Text.ElideRight
                                    font.pixelSize: Theme.fontCaption
                                    color: Theme.textFaint
                                }
                            }
                            IconButton {
                                visible: entryHover.hovered || entry.visualFocus
                                implicitWidth: 24
                                implicitHeight: 24
                                iconName: "edit"
                                tip: qsTr("Rename")
                                onClicked: renameDialog.openFor(entry.conversationId, entry.title)
                            }
                            IconButton {
                                visible: entryHover.hovered || entry.visualFocus
                                implicitWidth: 24
                                implicitHeight: 24
                                iconName: "download"
                                tip: qsTr("Export as Markdown")
                                onClicked: exportDialog.openFor(entry.conversationId, entry.title)
                            }
                            IconButton {
                                visible: entryHover.hovered || entry.visualFocus
                                implicitWidth: 24
                                implicitHeight: 24
                                iconName: "trash"
                                tip: qsTr("Delete")
                                onClicked: deleteDialog.openFor(entry.conversationId, entry.title)
                            }
                        }
                    }

                    Caption {
                        anchors.top: parent.top
                        anchors.left: parent.left
                        anchors.right: parent.right
                        anchors.margins: Theme.space4
                        visible: conversationList.count === 0
                        wrapMode: Text.Wrap
                        color: Theme.textFaint
                        text: qsTr("Conversations are saved here as you send messages.")
                    }
                }
            }
        }

        // Panes and the message box
        ColumnLayout {
            id: main
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.margins: Theme.space5
            spacing: Theme.space3

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.space4

                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: 2
                    Label {
                        Layout.fillWidth: true
                        text: session.conversationTitle.length > 0 ? session.conversationTitle : qsTr("Compare")
                        elide: Text.ElideRight
                        font.pixelSize: Theme.fontHeading
                        font.weight: Font.DemiBold
                        color: Theme.text
                        Accessible.role: Accessible.Heading
                    }
                    Label {
                        Layout.fillWidth: true
                        text: session.round > 0
                            ? qsTr("%n round(s) · answers stream through the gateway with the key “Gatehouse Chat”", "", session.round)
                            : qsTr("One message, several models side by side, through the gateway with the key “Gatehouse Chat”.")
                        elide: Text.ElideRight
                        color: Theme.textMuted
                    }
                }
                AppButton {
                    text: qsTr("Add model")
                    icon.source: Theme.icon("plus")
                    visible: session.round === 0
                    enabled: session.panes.count < 4
                    onClicked: session.addPane("")
                }
                AppButton {
                    text: qsTr("New conversation")
                    icon.source: Theme.icon("plus")
                    visible: session.round > 0
                    onClicked: session.newConversation()
                }
                AppButton {
                    text: qsTr("Export")
                    icon.source: Theme.icon("download")
                    visible: session.round > 0
                    onClicked: exportDialog.openFor(session.conversationId, session.conversationTitle)
                }
            }

            // 1 to 4 panes side by side; a 2 x 2 grid when the window is narrow.
            Item {
                id: paneArea
                Layout.fillWidth: true
                Layout.fillHeight: true

                readonly property int count: session.panes.count
                // Side by side while each pane keeps at least 300 px; a 2 x 2 grid otherwise.
                readonly property int columns: paneArea.count > 2 && paneArea.width < paneArea.count * 300 + (paneArea.count - 1) * Theme.space3
                    ? 2 : Math.max(1, paneArea.count)
                readonly property int rows: Math.ceil(paneArea.count / paneArea.columns)

                Grid {
                    id: grid
                    anchors.fill: parent
                    columns: paneArea.columns
                    spacing: Theme.space3

                    Repeater {
                        model: session.panes
                        delegate: ComparePane {
                            session: session
                            width: (grid.width - (paneArea.columns - 1) * grid.spacing) / paneArea.columns
                            height: (grid.height - (paneArea.rows - 1) * grid.spacing) / paneArea.rows
                            onCopied: page.notify(qsTr("Copied"), false)
                        }
                    }
                }
            }

            // The message box
            Rectangle {
                Layout.fillWidth: true
                implicitHeight: inputColumn.implicitHeight + 2 * Theme.space2
                radius: Theme.radius
                color: Theme.inputBackground
                border.color: input.activeFocus ? Theme.accent : Theme.borderStrong
                border.width: input.activeFocus ? 2 : 1

                ColumnLayout {
                    id: inputColumn
                    anchors.fill: parent
                    anchors.margins: Theme.space2
                    spacing: Theme.space1

                    // Attached images
                    Flow {
                        Layout.fillWidth: true
                        visible: session.attachments.length > 0
                        spacing: Theme.space1
                        Repeater {
                            model: session.attachments
                            delegate: Rectangle {
                                id: chip
                                required property string modelData
                                required property int index
                                implicitWidth: chipRow.implicitWidth + Theme.space2
                                implicitHeight: 26
                                radius: 13
                                color: Theme.surfaceAlt
                                border.color: Theme.border
                                Row {
                                    id: chipRow
                                    anchors.verticalCenter: parent.verticalCenter
                                    x: Theme.space2
                                    spacing: 2
                                    Label {
                                        anchors.verticalCenter: parent.verticalCenter
                                        text: chip.modelData
                                        font.pixelSize: Theme.fontSmall
                                        color: Theme.text
                                    }
                                    IconButton {
                                        implicitWidth: 22
                                        implicitHeight: 22
                                        iconName: "close"
                                        tip: qsTr("Remove %1").arg(chip.modelData)
                                        onClicked: session.removeAttachment(chip.index)
                                    }
                                }
                            }
                        }
                    }

                    RowLayout {
                        Layout.fillWidth: true
                        spacing: Theme.space2

                        IconButton {
                            Layout.alignment: Qt.AlignBottom
                            iconName: "plus"
                            tip: qsTr("Attach an image")
                            onClicked: imageDialog.open()
                        }
                        ScrollView {
                            Layout.fillWidth: true
                            Layout.preferredHeight: Math.min(140, Math.max(Theme.controlHeight, input.implicitHeight))
                            TextArea {
                                id: input
                                placeholderText: session.ready ? qsTr("Ask every model at once… (Enter sends, Shift+Enter for a new line)")
                                                               : qsTr("The built-in key could not be created: the chat is unavailable.")
                                enabled: session.ready
                                wrapMode: TextArea.Wrap
                                color: Theme.text
                                placeholderTextColor: Theme.textFaint
                                font.pixelSize: Theme.fontBody
                                selectByMouse: true
                                background: null
                                Accessible.name: qsTr("Message to every model")
                                Keys.onReturnPressed: event => {
                                    if (event.modifiers & Qt.ShiftModifier) {
                                        event.accepted = false;
                                        return;
                                    }
                                    sendButton.clicked();
                                }
                            }
                        }
                        AppButton {
                            Layout.alignment: Qt.AlignBottom
                            visible: session.round > 0 && !session.busy && session.panes.count > 1
                            variant: session.lastRoundVote === -1 ? "danger" : "ghost"
                            text: qsTr("All bad")
                            icon.source: Theme.icon("ban")
                            onClicked: session.vote(session.round, -1)
                        }
                        AppButton {
                            id: sendButton
                            Layout.alignment: Qt.AlignBottom
                            variant: session.busy ? "secondary" : "primary"
                            text: session.busy ? qsTr("Stop all") : qsTr("Send")
                            icon.source: Theme.icon(session.busy ? "pause" : "zap")
                            enabled: session.ready && (session.busy || input.text.trim().length > 0 || session.attachments.length > 0)
                            onClicked: {
                                if (session.busy) {
                                    session.stopAll();
                                } else if (session.send(input.text)) {
                                    input.text = "";
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    FileDialog {
        id: imageDialog
        title: qsTr("Attach an image")
        fileMode: FileDialog.OpenFiles
        nameFilters: [qsTr("Images (*.png *.jpg *.jpeg *.gif *.webp)")]
        onAccepted: {
            for (const file of imageDialog.selectedFiles)
                session.attachImage(file);
        }
    }

    FileDialog {
        id: exportDialog
        property string conversationId: ""
        function openFor(id: string, title: string) {
            exportDialog.conversationId = id;
            exportDialog.currentFile = "file:///" + title.replace(/[^A-Za-z0-9 _-]+/g, "").trim().replace(/ +/g, "-").toLowerCase() + ".md";
            exportDialog.open();
        }
        title: qsTr("Export the conversation as Markdown")
        fileMode: FileDialog.SaveFile
        defaultSuffix: "md"
        nameFilters: [qsTr("Markdown files (*.md)")]
        onAccepted: {
            if (session.exportMarkdown(exportDialog.conversationId, exportDialog.selectedFile))
                page.notify(qsTr("Conversation exported"), false);
        }
    }

    AppDialog {
        id: renameDialog
        property string conversationId: ""
        function openFor(id: string, title: string) {
            renameDialog.conversationId = id;
            renameField.text = title;
            renameDialog.open();
        }
        title: qsTr("Rename the conversation")
        acceptText: qsTr("Rename")
        acceptEnabled: renameField.text.trim().length > 0
        onAboutToShow: renameField.forceActiveFocus()
        onAccepted: session.renameConversation(renameDialog.conversationId, renameField.text)

        AppTextField {
            id: renameField
            anchors.left: parent.left
            anchors.right: parent.right
            placeholderText: qsTr("Title")
            onAccepted: if (renameDialog.acceptEnabled) renameDialog.accept()
        }
    }

    AppDialog {
        id: deleteDialog
        property string conversationId: ""
        property string conversationTitle: ""
        function openFor(id: string, title: string) {
            deleteDialog.conversationId = id;
            deleteDialog.conversationTitle = title;
            deleteDialog.open();
        }
        title: qsTr("Delete “%1”?").arg(deleteDialog.conversationTitle)
        acceptText: qsTr("Delete")
        acceptVariant: "danger"
        onAccepted: session.deleteConversation(deleteDialog.conversationId)

        ColumnLayout {
            anchors.fill: parent
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.text
                text: qsTr("The conversation and its answers are deleted. Its requests stay in the log and its votes keep counting.")
            }
        }
    }
}
