pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// Create or edit a model alias: the pattern a tool's model name must match, and the route or model
// it is served as (picked from the list, or typed as provider/model). Problems show as you type;
// Save is enabled once there are none.
AppDialog {
    id: editor

    required property AliasesModel aliases
    property int row: -1               // -1 for a new alias
    property string target: ""
    property bool matchTouched: false

    signal saved(string match, string target)
    signal failed(string message)

    readonly property string matchError: editor.aliases.validateMatch(matchField.text, editor.row)
    readonly property string targetError: (editor.aliases.revision, editor.aliases.validateTarget(editor.target))
    readonly property string targetKind: (editor.aliases.revision, editor.aliases.kindOf(editor.target))

    function openNew() {
        editor.row = -1;
        matchField.text = "";
        editor.target = "";
        picker.text = "";
        editor.matchTouched = false;
        editor.open();
    }
    function openFor(row: int, match: string, target: string) {
        editor.row = row;
        matchField.text = match;
        editor.target = target;
        picker.text = "";
        editor.matchTouched = true;
        editor.open();
    }

    title: editor.row >= 0 ? qsTr("Edit alias %1").arg(editor.row + 1) : qsTr("New alias")
    width: Math.min(560, parent ? parent.width - 2 * Theme.space6 : 560)
    acceptText: qsTr("Save")
    acceptEnabled: editor.matchError.length === 0 && editor.targetError.length === 0
    onOpened: matchField.forceActiveFocus()
    onAccepted: {
        const match = matchField.text.trim();
        const error = editor.aliases.saveAlias(editor.row, match, editor.target);
        if (error.length > 0)
            editor.failed(error);
        else
            editor.saved(match, editor.target);
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.space2

        Caption {
            text: qsTr("When a tool asks for a model named")
        }
        AppTextField {
            id: matchField
            Layout.fillWidth: true
            placeholderText: qsTr("e.g. claude-opus-*")
            font.family: matchField.text.length > 0 ? Theme.monoFamily : Theme.fontFamily
            Accessible.name: qsTr("Pattern of the model names")
            onTextEdited: editor.matchTouched = true
        }
        Caption {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            visible: editor.matchTouched || matchField.text.length > 0
            color: editor.matchError.length > 0 ? Theme.danger : Theme.textFaint
            text: editor.matchError.length > 0 ? editor.matchError
                : qsTr("* stands for any run of characters, ? for one character.")
        }

        Caption {
            Layout.topMargin: Theme.space2
            text: qsTr("serve it as")
        }
        RowLayout {
            Layout.fillWidth: true
            visible: editor.target.length > 0
            spacing: Theme.space2
            Icon {
                iconName: editor.targetKind === "route" ? "route" : editor.targetKind === "model" ? "layers" : "alert"
                size: 14
                color: Theme.textMuted
            }
            Label {
                Layout.fillWidth: true
                text: editor.target
                font.family: Theme.monoFamily
                font.pixelSize: Theme.fontBody
                color: Theme.text
                elide: Text.ElideMiddle
            }
            StatusChip {
                text: editor.targetKind === "route" ? qsTr("Route") : editor.targetKind === "model" ? qsTr("Model") : qsTr("Unknown")
                tone: editor.targetKind === "unknown" ? Theme.danger : Theme.accent
                dot: false
            }
        }
        RouteModelPicker {
            id: picker
            Layout.fillWidth: true
            modelIds: editor.aliases.targets
            exclude: editor.target.length > 0 ? [editor.target] : []
            placeholderText: editor.target.length > 0 ? qsTr("Change: search routes and models, or type provider/model…")
                                                     : qsTr("Search routes and models, or type provider/model…")
            Accessible.name: qsTr("Search routes and models for the alias's target")
            onPicked: modelId => editor.target = modelId
        }
        Caption {
            Layout.fillWidth: true
            visible: editor.aliases.targets.length === 0
            wrapMode: Text.Wrap
            color: Theme.warning
            text: qsTr("No routes or models yet: add a provider on the Providers page first.")
        }
        Caption {
            Layout.fillWidth: true
            visible: editor.target.length > 0 && editor.targetError.length > 0
            wrapMode: Text.Wrap
            color: Theme.danger
            text: editor.targetError
        }
    }
}
