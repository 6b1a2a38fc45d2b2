pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// Gatehouse keys: one card per key with its limits; create (the secret is shown once), edit,
// pause, revoke, and "Connect a tool" with ready-to-paste snippets.
PageBase {
    id: page

    // Main.openPage("keys/create"): the welcome card's "Create a key" opens the dialog.
    function runAction(action: string) {
        if (action === "create")
            createDialog.open();
    }

    KeysModel {
        id: keysModel
        backend: page.backend
    }

    ScrollPage {
        anchors.fill: parent
        maxContentWidth: 1120

        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Keys")
            subtitle: qsTr("Give each tool its own key, so you see what it spends and can cap it. Tools send the key as a Bearer token to %1.").arg(App.baseUrl)

            AppButton {
                text: qsTr("Create key")
                variant: "primary"
                icon.source: Theme.icon("plus")
                onClicked: createDialog.open()
            }
        }

        Card {
            Layout.fillWidth: true
            visible: keysModel.count === 0
            EmptyState {
                Layout.topMargin: Theme.space5
                Layout.bottomMargin: Theme.space5
                iconName: "key"
                title: qsTr("No keys yet")
                text: qsTr("Create a key for a tool — Claude Code, Cursor, your scripts — and drag its monthly cap. Then copy the snippet that connects the tool.")
                AppButton {
                    text: qsTr("Create your first key")
                    variant: "primary"
                    icon.source: Theme.icon("plus")
                    onClicked: createDialog.open()
                }
            }
        }

        // One card per key (a handful: no virtualized view needed). Cards in a positioner, not in the page's layout: a Quick Layout in Qt 6.4 can touch a
        // Repeater item that is being destroyed when the model resets, and crash.
        Column {
            id: cards
            Layout.fillWidth: true
            spacing: Theme.space4

            Repeater {
                model: keysModel
                delegate: KeyCard {
                    width: cards.width
                    keys: keysModel
                    onConnectRequested: (id, keyName) => connectDialog.openFor(id, keyName, "")
                    onEditRequested: (id, keyName, allowModels, allowUnpriced) => editDialog.openFor(id, keyName, allowModels, allowUnpriced)
                    onRevokeRequested: (id, keyName) => revokeDialog.openFor(id, keyName)
                    onForgetRequested: (id, keyName) => forgetDialog.openFor(id, keyName)
                    onLimitFailed: message => page.notify(message, true)
                }
            }
        }
    }

    // Create a key
    AppDialog {
        id: createDialog
        objectName: "createKeyDialog"
        title: qsTr("Create a key")
        acceptText: qsTr("Create")
        acceptEnabled: newName.text.trim().length > 0
        onAboutToShow: {
            newName.text = "";
            newModels.text = "";
            newName.forceActiveFocus();
        }
        onAccepted: {
            const secret = keysModel.createKey(newName.text.trim(), newModels.text.trim());
            if (secret.length === 0) {
                page.notify(qsTr("Could not create the key: %1").arg(keysModel.lastError), true);
                return;
            }
            secretDialog.show(newName.text.trim(), secret);
        }

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.space2

            Caption {
                text: qsTr("Name")
            }
            AppTextField {
                id: newName
                objectName: "newKeyName"
                Layout.fillWidth: true
                placeholderText: qsTr("e.g. Claude Code, Cursor, scripts")
                onAccepted: if (createDialog.acceptEnabled) createDialog.accept()
            }
            Caption {
                Layout.topMargin: Theme.space2
                text: qsTr("Allowed models")
            }
            AppTextField {
                id: newModels
                Layout.fillWidth: true
                placeholderText: qsTr("All models")
                font.family: newModels.text.length > 0 ? Theme.monoFamily : Theme.fontFamily
            }
            Caption {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textFaint
                text: qsTr("Comma-separated model ids; * matches anything: anthropic/*, *mini*. Leave empty to allow every model. Limits are set on the key's card.")
            }
        }
    }

    // "Delete everything about this key" (docs/capture.md)
    AppDialog {
        id: forgetDialog
        objectName: "forgetKeyDialog"

        property int keyId: -1
        property string keyName: ""

        function openFor(keyId: int, name: string) {
            forgetDialog.keyId = keyId;
            forgetDialog.keyName = name;
            forgetDialog.open();
        }

        title: qsTr("Delete everything about “%1”?").arg(forgetDialog.keyName)
        acceptText: qsTr("Delete everything")
        acceptVariant: "danger"
        onAccepted: {
            const summary = keysModel.forgetKey(forgetDialog.keyId);
            page.notify(summary.length > 0 ? summary : qsTr("Could not delete the key: %1").arg(keysModel.lastError), summary.length === 0);
        }

        ColumnLayout {
            anchors.fill: parent
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textMuted
                text: qsTr("The key, its logged requests and sessions (the spending totals no longer count them), its guardrail trips, captured bodies and cached answers are deleted for good. Tools using the key stop working. The audit trail keeps a record of the deletion.")
            }
        }
    }

    // The new secret, shown once
    AppDialog {
        id: secretDialog
        objectName: "secretDialog"

        property string keyName: ""
        property string secret: ""
        property int keyId: -1

        function show(keyName: string, secret: string) {
            secretDialog.keyName = keyName;
            secretDialog.secret = secret;
            secretDialog.open();
        }

        title: qsTr("Key “%1” created").arg(secretDialog.keyName)
        acceptText: qsTr("Connect a tool")
        cancelText: qsTr("Done")
        onAccepted: {
            // The new key is the row with this name.
            for (let row = 0; row < keysModel.count; ++row) {
                const index = keysModel.index(row, 0);
                if (keysModel.data(index, KeysModel.NameRole) === secretDialog.keyName) {
                    connectDialog.openFor(keysModel.data(index, KeysModel.KeyIdRole), secretDialog.keyName, secretDialog.secret);
                    break;
                }
            }
        }
        onClosed: secretDialog.secret = ""

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.space3

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.space2
                Icon {
                    iconName: "alert"
                    color: Theme.warning
                    Layout.alignment: Qt.AlignTop
                }
                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    color: Theme.text
                    text: qsTr("Copy this key now. Gatehouse keeps only a hash of it and cannot show it again.")
                }
            }
            CodeBlock {
                Layout.fillWidth: true
                text: secretDialog.secret
                copyTip: qsTr("Copy the key")
                onCopied: page.notify(qsTr("Key copied"), false)
            }
        }
    }

    // Edit: name, allowed models and whether unpriced models may be used under limits
    AppDialog {
        id: editDialog

        property int keyId: -1

        function openFor(keyId: int, name: string, allowModels: string, allowUnpriced: bool) {
            editDialog.keyId = keyId;
            editName.text = name;
            editModels.text = allowModels;
            editUnpriced.checked = allowUnpriced;
            editDialog.open();
        }

        title: qsTr("Edit key")
        acceptText: qsTr("Save")
        acceptEnabled: editName.text.trim().length > 0
        onOpened: editName.forceActiveFocus()
        onAccepted: {
            const id = editDialog.keyId;
            const ok = keysModel.rename(id, editName.text.trim())
                && keysModel.setAllowModels(id, editModels.text.trim())
                && keysModel.setAllowUnpriced(id, editUnpriced.checked);
            if (!ok)
                page.notify(qsTr("Could not change the key: %1").arg(keysModel.lastError), true);
        }

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.space2

            Caption {
                text: qsTr("Name")
            }
            AppTextField {
                id: editName
                Layout.fillWidth: true
                placeholderText: qsTr("Name")
                Accessible.name: qsTr("Key name")
                onAccepted: if (editDialog.acceptEnabled) editDialog.accept()
            }
            Caption {
                Layout.topMargin: Theme.space2
                text: qsTr("Allowed models")
            }
            AppTextField {
                id: editModels
                Layout.fillWidth: true
                placeholderText: qsTr("All models")
                Accessible.name: qsTr("Allowed models")
                font.family: editModels.text.length > 0 ? Theme.monoFamily : Theme.fontFamily
            }
            Caption {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textFaint
                text: qsTr("Comma-separated model ids; * matches anything: anthropic/*, *mini*. Leave empty to allow every model.")
            }
            SettingRow {
                Layout.topMargin: Theme.space2
                title: qsTr("Allow unpriced models")
                description: qsTr("A key with a limit refuses models without a known price (their cost cannot be counted). Allow them anyway, or give the model a price on the Providers page.")
                AppSwitch {
                    id: editUnpriced
                    Accessible.name: qsTr("Allow unpriced models")
                }
            }
        }
    }

    // Revoke
    AppDialog {
        id: revokeDialog

        property int keyId: -1
        property string keyName: ""

        function openFor(keyId: int, name: string) {
            revokeDialog.keyId = keyId;
            revokeDialog.keyName = name;
            revokeDialog.open();
        }

        title: qsTr("Revoke “%1”?").arg(revokeDialog.keyName)
        acceptText: qsTr("Revoke key")
        acceptVariant: "danger"
        onAccepted: {
            if (!keysModel.revoke(revokeDialog.keyId))
                page.notify(qsTr("Could not revoke the key: %1").arg(keysModel.lastError), true);
        }

        ColumnLayout {
            anchors.fill: parent
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textMuted
                text: qsTr("Tools using this key get 401 from now on. This cannot be undone; its spending history stays in the log. To stop it for a while, pause it instead.")
            }
        }
    }

    // Connect a tool
    AppDialog {
        id: connectDialog
        objectName: "connectDialog"

        property int keyId: -1
        property string keyName: ""
        property string secret: ""
        property string tool: "claude-code"
        // Ids and titles from the generator `gatehouse connect` shares (app/connect/snippets.cpp).
        readonly property var tools: keysModel.snippetTools().map(id => ({ value: id, label: keysModel.snippetToolTitle(id) }))

        function openFor(keyId: int, name: string, secret: string) {
            connectDialog.keyId = keyId;
            connectDialog.keyName = name;
            connectDialog.secret = secret;
            connectDialog.open();
        }

        title: qsTr("Connect a tool to “%1”").arg(connectDialog.keyName)
        width: Math.min(680, parent ? parent.width - 2 * Theme.space6 : 680)
        showCancel: false
        acceptText: qsTr("Done")
        onClosed: connectDialog.secret = ""

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.space3

            AppComboBox {
                objectName: "connectTool"
                Layout.preferredWidth: 220
                model: connectDialog.tools
                textRole: "label"
                valueRole: "value"
                Accessible.name: qsTr("Tool")
                Component.onCompleted: currentIndex = Math.max(0, indexOfValue(connectDialog.tool))
                onActivated: connectDialog.tool = currentValue
            }
            // Every tool's snippet in a stack: the stack is as tall as the tallest one, so the dialog
            // keeps its size when another tool is picked.
            StackLayout {
                Layout.fillWidth: true
                currentIndex: Math.max(0, connectDialog.tools.findIndex(t => t.value === connectDialog.tool))
                Repeater {
                    model: connectDialog.tools
                    delegate: CodeBlock {
                        required property var modelData
                        Layout.fillWidth: true
                        Layout.alignment: Qt.AlignTop
                        text: connectDialog.visible ? keysModel.snippet(connectDialog.keyId, modelData.value, connectDialog.secret) : ""
                        copyTip: qsTr("Copy the snippet")
                        onCopied: page.notify(qsTr("Snippet copied"), false)
                    }
                }
            }
            Caption {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                text: connectDialog.secret.length > 0
                      ? qsTr("The snippet contains the new key: keep it private.")
                      : qsTr("Gatehouse cannot show an existing key again: replace the placeholder with the key you saved when you created it.")
            }
        }
    }
}
