pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// One message of a Compare pane: the user's message (a bubble), or the pane's answer with its
// figures, its marks (fastest, cheapest, the vote) and the vote button.
Item {
    id: message

    required property string role
    required property string text
    required property MarkdownBlocksModel blocks
    required property int round
    required property string modelId
    required property int inputTokens
    required property int cachedTokens
    required property int outputTokens
    required property real cost
    required property string costState
    required property int ttftMs
    required property real tokensPerSecond
    required property string error
    required property bool streaming
    required property bool fastest
    required property bool cheapest
    required property int vote
    required property int imageCount

    property bool canVote: false
    signal voteRequested(int round)
    signal copied()

    readonly property bool isUser: message.role === "user"
    readonly property bool stopped: message.error === "stopped"
    // The answer's figures, each its own item so that they wrap as a whole in a narrow pane.
    readonly property list<string> figures: {
        const parts = [];
        if (message.ttftMs >= 0)
            parts.push(qsTr("first token %1").arg(Format.duration(message.ttftMs)));
        if (message.tokensPerSecond > 0)
            parts.push(qsTr("%1 tok/s").arg(message.tokensPerSecond.toFixed(message.tokensPerSecond < 10 ? 1 : 0)));
        if (message.inputTokens + message.outputTokens > 0) {
            parts.push(message.cachedTokens > 0
                ? qsTr("%1 in (%2 cached)").arg(Format.tokens(message.inputTokens)).arg(Format.tokens(message.cachedTokens))
                : qsTr("%1 in").arg(Format.tokens(message.inputTokens)));
            parts.push(qsTr("%1 out").arg(Format.tokens(message.outputTokens)));
        }
        if (message.costState === "priced")
            parts.push(Money.usd(message.cost));
        else if (message.costState === "unpriced")
            parts.push(qsTr("unpriced"));
        return parts;
    }

    implicitHeight: message.isUser ? bubble.height : answer.implicitHeight

    // The user's message
    Rectangle {
        id: bubble
        visible: message.isUser
        anchors.right: parent.right
        width: Math.min(message.width * 0.85, userText.implicitWidth + 2 * Theme.space3)
        height: userColumn.implicitHeight + 2 * Theme.space2
        radius: Theme.radius
        color: Theme.accentSoft

        Column {
            id: userColumn
            x: Theme.space3
            y: Theme.space2
            width: bubble.width - 2 * Theme.space3
            spacing: 2
            Label {
                id: userText
                width: parent.width
                text: message.text
                wrapMode: Text.Wrap
                color: Theme.text
                textFormat: Text.PlainText
            }
            Caption {
                visible: message.imageCount > 0
                text: qsTr("%n image(s) attached", "", message.imageCount)
            }
        }
    }

    // The answer
    ColumnLayout {
        id: answer
        visible: !message.isUser
        width: message.width
        spacing: Theme.space2

        MarkdownView {
            Layout.fillWidth: true
            visible: message.text.length > 0
            blocks: message.blocks
            onCopied: message.copied()
        }
        BusyIndicator {
            visible: message.streaming && message.text.length === 0
            running: visible
            implicitWidth: 24
            implicitHeight: 24
        }
        Label {
            Layout.fillWidth: true
            visible: message.error.length > 0
            text: message.stopped ? qsTr("Stopped.") : message.error
            wrapMode: Text.Wrap
            color: message.stopped ? Theme.textMuted : Theme.danger
            font.pixelSize: Theme.fontSmall
        }

        // Figures and marks
        Flow {
            Layout.fillWidth: true
            visible: !message.streaming && (message.outputTokens > 0 || message.costState !== "pending" || message.ttftMs >= 0)
            spacing: Theme.space1

            Repeater {
                model: message.figures
                delegate: Caption {
                    required property string modelData
                    required property int index
                    text: index < message.figures.length - 1 ? modelData + "  ·" : modelData
                    font.pixelSize: Theme.fontCaption
                    color: Theme.textMuted
                    height: 20
                    verticalAlignment: Text.AlignVCenter
                }
            }
            // "Fastest" is the answer that was complete first (first token plus the generation),
            // not the one whose first token came first: the label says which.
            StatusChip {
                visible: message.fastest
                text: qsTr("Finished first")
                tone: Theme.accent
            }
            StatusChip {
                visible: message.cheapest
                text: qsTr("Cheapest")
                tone: Theme.ok
            }
            StatusChip {
                visible: message.vote === -1
                text: qsTr("All bad")
                tone: Theme.danger
            }
        }

        RowLayout {
            visible: message.canVote && !message.streaming && message.error.length === 0 && message.text.length > 0
            spacing: Theme.space1

            AppButton {
                implicitHeight: 26
                variant: message.vote === 1 ? "secondary" : "ghost"
                text: message.vote === 1 ? qsTr("Voted best") : qsTr("Best answer")
                icon.source: Theme.icon("trophy")
                font.pixelSize: Theme.fontSmall
                onClicked: message.voteRequested(message.round)
            }
            IconButton {
                implicitHeight: 26
                iconName: "copy"
                tip: qsTr("Copy the answer")
                onClicked: {
                    App.copyToClipboard(message.text);
                    message.copied();
                }
            }
        }
    }
}
