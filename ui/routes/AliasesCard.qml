pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// Model aliases: names tools send (claude-opus-4-8, gpt-4o…) matched by a pattern and served as a
// route or a model. In order: the first match wins, so rows move up and down. "Test a name" shows
// what a name resolves to on the running gateway.
Card {
    id: card

    required property AliasesModel aliases

    signal newRequested
    signal editRequested(int row, string match, string target)
    signal deleteRequested(int row, string match)
    signal failed(string message)

    spacing: Theme.space3

    RowLayout {
        Layout.fillWidth: true
        spacing: Theme.space3

        ColumnLayout {
            Layout.fillWidth: true
            spacing: 2
            SectionTitle {
                Layout.fillWidth: true
                text: qsTr("Aliases")
            }
            Caption {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                text: qsTr("Serve the model names your tools send as a route or another model, e.g. Claude Code's claude-opus-* → smart. The first matching alias wins.")
            }
        }
        AppButton {
            text: qsTr("New alias")
            icon.source: Theme.icon("plus")
            onClicked: card.newRequested()
        }
    }

    Caption {
        Layout.fillWidth: true
        visible: card.aliases.count === 0
        wrapMode: Text.Wrap
        color: Theme.textFaint
        text: qsTr("No aliases yet: tools' model names are served as they are.")
    }

    // The aliases in matching order (in a positioner: see the page about Repeaters in layouts).
    Column {
        id: rows
        Layout.fillWidth: true
        visible: card.aliases.count > 0
        spacing: Theme.space1

        Repeater {
            model: card.aliases
            delegate: RowLayout {
                id: aliasRow
                required property int index
                required property string match
                required property string target
                required property string targetKind
                required property string problem
                required property int shadowedBy

                width: rows.width
                height: 32
                spacing: Theme.space3

                Label {
                    Layout.preferredWidth: 18
                    text: (aliasRow.index + 1) + "."
                    horizontalAlignment: Text.AlignRight
                    font.pixelSize: Theme.fontSmall
                    color: Theme.textFaint
                }
                Label {
                    Layout.maximumWidth: aliasRow.width / 3
                    text: aliasRow.match
                    font.family: Theme.monoFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.text
                    elide: Text.ElideMiddle
                }
                Label {
                    text: "→"
                    color: Theme.textFaint
                }
                Icon {
                    iconName: aliasRow.targetKind === "route" ? "route" : aliasRow.targetKind === "model" ? "layers" : "alert"
                    size: 14
                    color: Theme.textMuted
                }
                Label {
                    Layout.maximumWidth: aliasRow.width / 3
                    text: aliasRow.target
                    font.family: Theme.monoFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.text
                    elide: Text.ElideMiddle
                }
                StatusChip {
                    visible: aliasRow.problem.length > 0
                    text: qsTr("Serves nothing")
                    tone: Theme.danger
                    ToolTip.visible: problemHover.hovered
                    ToolTip.text: aliasRow.problem
                    HoverHandler {
                        id: problemHover
                    }
                }
                StatusChip {
                    visible: aliasRow.shadowedBy > 0
                    text: qsTr("Never used: alias %1 matches first").arg(aliasRow.shadowedBy)
                    tone: Theme.warning
                }
                Item {
                    Layout.fillWidth: true
                }
                IconButton {
                    implicitWidth: 28
                    implicitHeight: 28
                    iconName: "chevron-down"
                    rotation: 180
                    tip: qsTr("Move alias %1 up: tried earlier").arg(aliasRow.index + 1)
                    enabled: aliasRow.index > 0
                    onClicked: {
                        const error = card.aliases.move(aliasRow.index, aliasRow.index - 1);
                        if (error.length > 0)
                            card.failed(error);
                    }
                }
                IconButton {
                    implicitWidth: 28
                    implicitHeight: 28
                    iconName: "chevron-down"
                    tip: qsTr("Move alias %1 down: tried later").arg(aliasRow.index + 1)
                    enabled: aliasRow.index < card.aliases.count - 1
                    onClicked: {
                        const error = card.aliases.move(aliasRow.index, aliasRow.index + 1);
                        if (error.length > 0)
                            card.failed(error);
                    }
                }
                IconButton {
                    implicitWidth: 28
                    implicitHeight: 28
                    iconName: "edit"
                    tip: qsTr("Edit alias %1").arg(aliasRow.index + 1)
                    onClicked: card.editRequested(aliasRow.index, aliasRow.match, aliasRow.target)
                }
                IconButton {
                    implicitWidth: 28
                    implicitHeight: 28
                    iconName: "trash"
                    icon.color: Theme.danger
                    tip: qsTr("Delete alias %1").arg(aliasRow.index + 1)
                    onClicked: card.deleteRequested(aliasRow.index, aliasRow.match)
                }
            }
        }
    }

    Rectangle {
        Layout.fillWidth: true
        implicitHeight: 1
        color: Theme.border
    }

    // Test a name
    RowLayout {
        Layout.fillWidth: true
        spacing: Theme.space3

        Caption {
            text: qsTr("Test a name")
        }
        AppTextField {
            id: testField
            Layout.preferredWidth: 260
            placeholderText: qsTr("e.g. claude-opus-4-8")
            font.family: testField.text.length > 0 ? Theme.monoFamily : Theme.fontFamily
            Accessible.name: qsTr("A model name to test against the aliases")
        }
        Label {
            id: testResult

            // {name, matched, row, match, served, kind, detail, ok}; re-read when aliases or the registry change.
            readonly property var result: (card.aliases.revision, card.aliases.test(testField.text))

            Layout.fillWidth: true
            visible: testField.text.trim().length > 0
            wrapMode: Text.Wrap
            font.pixelSize: Theme.fontSmall
            color: testResult.result.ok ? Theme.text : Theme.danger
            text: !testResult.result.name ? ""
                : testResult.result.matched
                  ? qsTr("Alias %1 (%2) → %3").arg(testResult.result.row + 1).arg(testResult.result.match).arg(testResult.result.detail)
                  : qsTr("No alias matches → %1").arg(testResult.result.detail)
        }
    }
}
