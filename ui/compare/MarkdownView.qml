pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import Gatehouse

// A Markdown answer as blocks (MarkdownBlocksModel): prose rendered as Markdown, fenced code as a
// monospaced block with a copy button. Only a block whose text changed is laid out again, so a long
// answer that streams does not re-render from the start on every update.
Column {
    id: view

    property MarkdownBlocksModel blocks
    signal copied()

    spacing: Theme.space2

    Repeater {
        model: view.blocks
        // Both kinds in one delegate (a bound inline component cannot be given to a Loader in Qt 6.4);
        // the other one stays empty and hidden.
        delegate: Item {
            id: block
            required property string kind
            required property string text
            required property string language
            readonly property bool isCode: block.kind === "code"
            width: view.width
            height: block.isCode ? code.height : prose.height

            TextEdit {
                id: prose
                visible: !block.isCode
                width: block.width
                text: block.isCode ? "" : block.text
                textFormat: TextEdit.MarkdownText
                readOnly: true
                selectByMouse: true
                wrapMode: TextEdit.Wrap
                color: Theme.text
                selectionColor: Theme.accent
                selectedTextColor: Theme.textOnAccent
                font.pixelSize: Theme.fontBody
                onLinkActivated: link => App.openUrl(link)
            }
            MarkdownCode {
                id: code
                visible: block.isCode
                width: block.width
                height: block.isCode ? implicitHeight : 0
                code: block.isCode ? block.text : ""
                language: block.language
                onCopied: view.copied()
            }
        }
    }
}
