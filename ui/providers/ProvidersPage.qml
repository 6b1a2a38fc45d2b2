pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// Upstream providers: add one from the known list (base URL prefilled), its API key goes to the OS
// keychain (or an environment variable when there is no keychain), "Test connection" lists models.
PageBase {
    id: page

    // Main.openPage("providers/add"): the welcome card's "Add a provider" opens the dialog.
    function runAction(action: string) {
        if (action === "add")
            addDialog.open();
    }

    ProvidersModel {
        id: providersModel
        backend: page.backend
    }

    CatalogStatus {
        id: catalogStatus
        backend: page.backend
    }

    // Model servers on this machine, probed when the page opens and on "Look again".
    LocalServersModel {
        id: localServers
        providers: providersModel
    }

    ScrollPage {
        anchors.fill: parent
        maxContentWidth: 1120
        contentSpacing: Theme.space3

        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Providers")
            subtitle: App.keychainAvailable
                      ? qsTr("Where requests go. API keys are kept in the system keychain and never shown again in full.")
                      : qsTr("Where requests go. API keys come from environment variables on this system.")

            AppButton {
                objectName: "findLocalButton"
                text: localServers.scanning ? qsTr("Looking…") : qsTr("Find local servers")
                enabled: !localServers.scanning
                onClicked: localServers.scan()
            }
            AppButton {
                text: qsTr("Add provider")
                variant: "primary"
                icon.source: Theme.icon("plus")
                onClicked: addDialog.open()
            }
        }

        // No keychain: say so plainly and offer the environment-variable route.
        Rectangle {
            Layout.fillWidth: true
            visible: !App.keychainAvailable
            implicitHeight: noticeRow.implicitHeight + 2 * Theme.space4
            radius: Theme.radius
            color: Theme.warningSoft
            border.color: Theme.withAlpha(Theme.warning, 0.4)

            RowLayout {
                id: noticeRow
                anchors.fill: parent
                anchors.margins: Theme.space4
                spacing: Theme.space3

                Icon {
                    Layout.alignment: Qt.AlignTop
                    iconName: "alert"
                    size: 18
                    color: Theme.warning
                }
                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: Theme.space1
                    Label {
                        text: qsTr("No keychain is available")
                        font.weight: Font.DemiBold
                        color: Theme.text
                    }
                    Label {
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        color: Theme.textMuted
                        text: qsTr("Gatehouse cannot store API keys safely on this system (no Secret Service, Keychain or Credential Manager answered). "
                                   + "Put each provider's key in an environment variable instead, name the variable when you add the provider, "
                                   + "and start Gatehouse with it set, e.g. OPENAI_API_KEY=sk-… gatehouse")
                    }
                }
            }
        }

        // The price catalog: where its prices come from, how old they are, and a refresh.
        Card {
            Layout.fillWidth: true
            padding: Theme.space4

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.space3

                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: Theme.space1
                    Label {
                        objectName: "catalogSummary"
                        Layout.fillWidth: true
                        elide: Text.ElideRight
                        font.weight: Font.DemiBold
                        color: Theme.text
                        text: qsTr("Prices: %1 models, taken on %2").arg(catalogStatus.modelCount).arg(catalogStatus.takenOn)
                    }
                    Label {
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        color: catalogStatus.lastFailed ? Theme.danger : Theme.textMuted
                        text: catalogStatus.message.length > 0
                              ? catalogStatus.message
                              : qsTr("Source: %1. Your own prices for a model always win.").arg(catalogStatus.source)
                    }
                }
                AppSwitch {
                    text: qsTr("Refresh online")
                    checked: catalogStatus.refreshEnabled
                    onToggled: catalogStatus.refreshEnabled = checked
                }
                AppButton {
                    text: catalogStatus.busy ? qsTr("Updating…") : qsTr("Update prices")
                    enabled: !catalogStatus.busy && catalogStatus.refreshEnabled
                    onClicked: catalogStatus.update()
                }
            }
        }

        // Found on this machine: each local server offered as a provider in one click.
        Card {
            objectName: "localServersCard"
            Layout.fillWidth: true
            visible: localServers.count > 0
            padding: Theme.space4
            spacing: Theme.space2

            Label {
                Layout.fillWidth: true
                text: qsTr("Found on this machine")
                font.weight: Font.DemiBold
                color: Theme.text
            }
            Column {
                Layout.fillWidth: true
                spacing: Theme.space2

                Repeater {
                    model: localServers
                    delegate: RowLayout {
                        id: serverRow
                        required property int index
                        required property string name
                        required property string baseUrl
                        required property var models
                        required property bool needsKey
                        required property bool added
                        width: parent ? parent.width : 0
                        spacing: Theme.space3

                        Icon {
                            iconName: "server"
                            size: 18
                            color: Theme.textMuted
                        }
                        ColumnLayout {
                            Layout.fillWidth: true
                            spacing: 0
                            Label {
                                Layout.fillWidth: true
                                elide: Text.ElideRight
                                color: Theme.text
                                text: qsTr("%1 at %2").arg(serverRow.name).arg(serverRow.baseUrl)
                            }
                            Label {
                                Layout.fillWidth: true
                                elide: Text.ElideRight
                                color: Theme.textMuted
                                text: serverRow.needsKey ? qsTr("It asks for an API key: add it with “Add provider” and the key set in its settings.")
                                      : serverRow.models.length === 0 ? qsTr("No models loaded yet · local, $0 per token")
                                      : serverRow.models.length === 1 ? qsTr("1 model: %1 · local, $0 per token").arg(serverRow.models[0])
                                      : qsTr("%1 models: %2 · local, $0 per token").arg(serverRow.models.length).arg(serverRow.models.join(", "))
                            }
                        }
                        AppButton {
                            text: serverRow.added ? qsTr("Added") : qsTr("Add")
                            variant: serverRow.added ? "ghost" : "primary"
                            enabled: !serverRow.added && !serverRow.needsKey
                            onClicked: {
                                const error = localServers.add(serverRow.index);
                                page.notify(error.length > 0 ? error : qsTr("Added %1 with its models, priced $0 as local.").arg(serverRow.name), error.length > 0);
                            }
                        }
                    }
                }
            }
        }

        Card {
            Layout.fillWidth: true
            visible: providersModel.count === 0
            EmptyState {
                Layout.topMargin: Theme.space5
                Layout.bottomMargin: Theme.space5
                iconName: "server"
                title: qsTr("No providers yet")
                text: qsTr("Add OpenAI, Anthropic, Google Gemini, OpenRouter or another provider with its API key, or a local server such as Ollama or LM Studio.")
                AppButton {
                    text: qsTr("Add a provider")
                    variant: "primary"
                    icon.source: Theme.icon("plus")
                    onClicked: addDialog.open()
                }
            }
        }

        // One card per provider
        // Cards in a positioner, not in the page's layout: a Quick Layout in Qt 6.4 can touch a
        // Repeater item that is being destroyed when the model resets, and crash.
        Column {
            id: cards
            Layout.fillWidth: true
            spacing: Theme.space3

            Repeater {
                model: providersModel
                delegate: Card {
                    id: slot
                    required property string providerId
                    required property string displayName
                    required property string format
                    required property string baseUrl
                    required property string keySource
                    required property bool hasKey
                    required property int modelCount
                    required property string testState
                    required property string testMessage
                    required property string health
                    required property string keyState
                    required property string keyMessage
                    required property string policySummary
                    required property var policy
                    required property var model // for `enabled`, which a property of that name would shadow
                    readonly property bool providerEnabled: slot.model.enabled === true

                    width: cards.width
                    spacing: Theme.space3

                    RowLayout {
                        Layout.fillWidth: true
                        spacing: Theme.space3

                        Rectangle {
                            implicitWidth: 36
                            implicitHeight: 36
                            radius: Theme.radius
                            color: Theme.accentSoft
                            Label {
                                anchors.centerIn: parent
                                text: slot.displayName.length > 0 ? slot.displayName.charAt(0).toUpperCase() : "?"
                                font.pixelSize: Theme.fontTitle
                                font.weight: Font.Bold
                                color: Theme.accent
                            }
                        }

                        ColumnLayout {
                            Layout.fillWidth: true
                            spacing: 2
                            RowLayout {
                                spacing: Theme.space2
                                Label {
                                    text: slot.displayName
                                    font.pixelSize: Theme.fontTitle
                                    font.weight: Font.DemiBold
                                    color: Theme.text
                                }
                                StatusChip {
                                    text: slot.format
                                    tone: Theme.textMuted
                                    dot: false
                                }
                                StatusChip {
                                    visible: !slot.providerEnabled
                                    text: qsTr("Disabled")
                                    tone: Theme.textMuted
                                }
                                StatusChip {
                                    visible: slot.providerEnabled && slot.health.length > 0 && slot.health !== "unknown"
                                    text: slot.health === "ok" ? qsTr("Healthy") : slot.health
                                    tone: slot.health === "ok" ? Theme.ok : Theme.warning
                                }
                            }
                            Label {
                                Layout.fillWidth: true
                                text: slot.baseUrl
                                font.family: Theme.monoFamily
                                font.pixelSize: Theme.fontSmall
                                color: Theme.textMuted
                                elide: Text.ElideMiddle
                            }
                        }

                        AppButton {
                            text: slot.testState === "testing" ? qsTr("Testing…") : qsTr("Test connection")
                            icon.source: Theme.icon("zap")
                            enabled: slot.testState !== "testing"
                            onClicked: providersModel.testConnection(slot.providerId)
                        }
                        AppButton {
                            text: qsTr("Prices…")
                            Accessible.name: qsTr("Prices of %1's models").arg(slot.displayName)
                            onClicked: priceDialog.openFor(slot.providerId, slot.displayName)
                        }
                        IconButton {
                            iconName: "edit"
                            tip: qsTr("Edit the address, format or key variable")
                            onClicked: editDialog.openFor(slot.providerId, slot.displayName, slot.format, slot.baseUrl, slot.model.apiKeyEnv ?? "")
                        }
                        IconButton {
                            iconName: "key"
                            tip: App.keychainAvailable ? qsTr("Set the API key") : qsTr("Keychain unavailable: use an environment variable")
                            enabled: App.keychainAvailable
                            onClicked: keyDialog.openFor(slot.providerId, slot.displayName)
                        }
                        IconButton {
                            iconName: "trash"
                            tip: qsTr("Remove this provider")
                            onClicked: removeDialog.openFor(slot.providerId, slot.displayName)
                        }
                    }

                    // A key typed here that the keychain has not stored yet (it may be asking
                    // for the keyring's password): kept in memory, stored when it answers.
                    Rectangle {
                        Layout.fillWidth: true
                        visible: slot.keyState.length > 0
                        implicitHeight: keyRow.implicitHeight + 2 * Theme.space2
                        radius: Theme.radiusSmall
                        color: slot.keyState === "failed" ? Theme.dangerSoft : Theme.accentSoft
                        RowLayout {
                            id: keyRow
                            anchors.fill: parent
                            anchors.margins: Theme.space2
                            anchors.leftMargin: Theme.space3
                            spacing: Theme.space2
                            BusyIndicator {
                                visible: slot.keyState === "saving"
                                running: visible
                                implicitWidth: 16
                                implicitHeight: 16
                                padding: 0
                            }
                            Label {
                                Layout.fillWidth: true
                                text: slot.keyMessage
                                wrapMode: Text.Wrap
                                font.pixelSize: Theme.fontSmall
                                color: slot.keyState === "failed" ? Theme.danger : Theme.text
                            }
                            AppButton {
                                visible: slot.keyState === "failed"
                                text: qsTr("Retry")
                                onClicked: providersModel.retryApiKey(slot.providerId)
                            }
                        }
                    }

                    Rectangle {
                        Layout.fillWidth: true
                        implicitHeight: 1
                        color: Theme.border
                    }

                    RowLayout {
                        Layout.fillWidth: true
                        spacing: Theme.space5

                        RowLayout {
                            spacing: Theme.space2
                            Icon {
                                iconName: "key"
                                size: 14
                                color: slot.hasKey ? Theme.ok : Theme.textFaint
                            }
                            Caption {
                                text: slot.keySource === "keychain" ? qsTr("API key in the keychain")
                                    : slot.keySource.startsWith("env:") ? qsTr("API key from $%1").arg(slot.keySource.substring(4))
                                    : qsTr("No API key")
                                color: slot.hasKey || slot.keySource.length === 0 ? Theme.textMuted : Theme.warning
                            }
                        }
                        RowLayout {
                            spacing: Theme.space2
                            Icon {
                                iconName: "sparkles"
                                size: 14
                            }
                            Caption {
                                text: slot.modelCount === 1 ? qsTr("1 model") : qsTr("%1 models").arg(slot.modelCount)
                            }
                        }

                        // The last connection test
                        RowLayout {
                            Layout.fillWidth: true
                            spacing: Theme.space2
                            visible: slot.testState !== "idle"

                            BusyIndicator {
                                visible: slot.testState === "testing"
                                running: visible
                                implicitWidth: 16
                                implicitHeight: 16
                                padding: 0
                            }
                            Icon {
                                visible: slot.testState === "ok" || slot.testState === "error"
                                iconName: slot.testState === "ok" ? "check" : "alert"
                                size: 14
                                color: slot.testState === "ok" ? Theme.ok : Theme.danger
                            }
                            Label {
                                Layout.fillWidth: true
                                text: slot.testState === "testing" ? qsTr("Asking the provider for its models…") : slot.testMessage
                                font.pixelSize: Theme.fontSmall
                                color: slot.testState === "error" ? Theme.danger : slot.testState === "ok" ? Theme.ok : Theme.textMuted
                                elide: Text.ElideRight
                                ToolTip.visible: testHover.hovered && truncated
                                ToolTip.text: slot.testMessage
                                HoverHandler {
                                    id: testHover
                                }
                            }
                        }
                        Item {
                            Layout.fillWidth: true
                            visible: slot.testState === "idle"
                        }
                    }

                    // The data policy at a glance: what the provider does with prompts, and whether
                    // it is the published terms (with their source) or the user's own settings.
                    RowLayout {
                        Layout.fillWidth: true
                        spacing: Theme.space2
                        Icon {
                            iconName: "info"
                            size: 14
                            color: Theme.textMuted
                        }
                        Label {
                            objectName: "providerPolicy"
                            Layout.fillWidth: true
                            text: qsTr("Data policy: %1").arg(slot.policySummary)
                                  + (slot.policy.edited ? qsTr(" (your settings)")
                                     : (slot.policy.sourceName ?? "").length > 0 ? qsTr(" (published terms, %1)").arg(slot.policy.sourceDate)
                                     : qsTr(" (no published terms known)"))
                            font.pixelSize: Theme.fontSmall
                            color: Theme.textMuted
                            wrapMode: Text.Wrap
                            ToolTip.visible: policyHover.hovered && (slot.policy.note ?? "").length > 0
                            ToolTip.text: (slot.policy.note ?? "") + ((slot.policy.source ?? "").length > 0 && slot.policy.source !== "local" ? "\n" + slot.policy.source : "")
                            ToolTip.delay: 400
                            HoverHandler {
                                id: policyHover
                            }
                        }
                        AppButton {
                            text: qsTr("Policy…")
                            variant: "ghost"
                            Accessible.name: qsTr("Data policy of %1").arg(slot.displayName)
                            onClicked: policyDialog.openFor(slot.providerId, slot.displayName, slot.policy)
                        }
                    }

                    // Live health of each model (circuit breaker, errors, speed), read once a second.
                    HealthModel {
                        id: modelHealth
                        backend: page.backend
                        provider: slot.providerId
                    }
                    Flow {
                        Layout.fillWidth: true
                        visible: modelHealth.count > 0 || modelHealth.quietCount > 0
                        spacing: Theme.space2

                        Caption {
                            height: 22
                            verticalAlignment: Text.AlignVCenter
                            text: qsTr("Health:")
                        }
                        Repeater {
                            model: modelHealth
                            delegate: Rectangle {
                                id: healthChip
                                required property string shortName
                                required property string health
                                required property string healthTip
                                implicitWidth: healthRow.implicitWidth + 2 * Theme.space2
                                implicitHeight: 22
                                radius: 4
                                color: Theme.surfaceAlt
                                border.color: healthChip.activeFocus ? Theme.accent : Theme.border
                                border.width: healthChip.activeFocus ? 2 : 1
                                activeFocusOnTab: true
                                Accessible.role: Accessible.Indicator
                                Accessible.name: healthChip.shortName + ": " + healthChip.healthTip
                                ToolTip.visible: chipHover.hovered || healthChip.activeFocus
                                ToolTip.delay: 300
                                ToolTip.text: healthChip.healthTip
                                HoverHandler {
                                    id: chipHover
                                }
                                Row {
                                    id: healthRow
                                    anchors.centerIn: parent
                                    spacing: 2
                                    HealthDot {
                                        anchors.verticalCenter: parent.verticalCenter
                                        health: healthChip.health
                                        size: 7
                                    }
                                    Label {
                                        anchors.verticalCenter: parent.verticalCenter
                                        text: healthChip.shortName
                                        font.family: Theme.monoFamily
                                        font.pixelSize: Theme.fontSmall
                                        color: Theme.textMuted
                                    }
                                }
                            }
                        }
                        Caption {
                            visible: modelHealth.quietCount > 0
                            height: 22
                            verticalAlignment: Text.AlignVCenter
                            color: Theme.textFaint
                            text: modelHealth.count > 0 ? qsTr("+ %n more without traffic yet", "", modelHealth.quietCount)
                                                        : qsTr("%n model(s), no traffic yet", "", modelHealth.quietCount)
                        }
                    }
                }
            }
        }
    }

    // Add a provider
    AppDialog {
        id: addDialog
        objectName: "addProviderDialog"

        readonly property var known: providersModel.knownProviders()
        readonly property var choice: addDialog.known.length > 0 ? addDialog.known[Math.max(0, kindBox.currentIndex)] : ({})
        readonly property bool custom: addDialog.choice.id === "custom"
        readonly property bool needsKey: addDialog.choice.needsKey === true
        // A custom server may want a key too (most hosted OpenAI-compatible ones do): the field is
        // offered, empty means none.
        readonly property bool offersKey: addDialog.needsKey || addDialog.custom
        property bool useEnv: !App.keychainAvailable
        // The id as it will be saved: typed text made into an id (lower case, spaces to dashes,
        // other characters dropped) instead of characters silently refused while typing.
        readonly property string derivedId: idField.text.trim().toLowerCase().replace(/[\s/]+/g, "-").replace(/[^a-z0-9._-]/g, "").replace(/^[^a-z0-9]+/, "").substring(0, 40)

        function prefill() {
            idField.text = addDialog.custom ? "" : addDialog.choice.id;
            urlField.text = addDialog.choice.baseUrl ?? "";
            envField.text = addDialog.choice.keyEnv ?? "";
            keyField.text = "";
            formatBox.currentIndex = Math.max(0, formatBox.model.indexOf(addDialog.choice.format ?? "openai"));
        }

        title: qsTr("Add a provider")
        width: Math.min(560, parent ? parent.width - 2 * Theme.space6 : 560)
        acceptText: qsTr("Add and test")
        acceptEnabled: addDialog.derivedId.length > 0 && urlField.text.trim().length > 0
        onAboutToShow: {
            kindBox.currentIndex = 0;
            addDialog.useEnv = !App.keychainAvailable;
            addDialog.prefill();
        }
        onAccepted: {
            const id = addDialog.derivedId;
            const error = providersModel.addProvider(id, formatBox.currentText, urlField.text.trim(),
                                                     addDialog.useEnv ? "" : keyField.text,
                                                     addDialog.useEnv ? envField.text.trim() : "");
            keyField.text = "";
            if (error.length > 0) {
                page.notify(error, true);
                return;
            }
            page.notify(qsTr("Added %1; testing the connection…").arg(kindBox.currentText), false);
            providersModel.testConnection(id);
        }

        GridLayout {
            anchors.fill: parent
            columns: 2
            columnSpacing: Theme.space3
            rowSpacing: Theme.space3

            Caption {
                text: qsTr("Provider")
            }
            AppComboBox {
                id: kindBox
                objectName: "providerKind"
                Layout.fillWidth: true
                model: addDialog.known
                textRole: "name"
                Accessible.name: qsTr("Provider")
                onActivated: addDialog.prefill()
            }

            Caption {
                text: qsTr("Id")
            }
            AppTextField {
                id: idField
                objectName: "providerId"
                Layout.fillWidth: true
                placeholderText: qsTr("e.g. my-vllm")
                font.family: Theme.monoFamily
                Accessible.name: qsTr("Provider id")
            }
            Item {
                implicitWidth: 1
                visible: idHint.visible
            }
            Caption {
                id: idHint
                Layout.fillWidth: true
                visible: idField.text.length > 0
                wrapMode: Text.Wrap
                color: addDialog.derivedId.length === 0 ? Theme.danger : Theme.textFaint
                text: addDialog.derivedId.length === 0
                      ? qsTr("Use lower-case letters, digits, '.', '_' or '-'.")
                      : addDialog.derivedId !== idField.text.trim()
                        ? qsTr("Saved as “%1” (lower-case letters, digits, '.', '_', '-'); model names start with it: %1/…").arg(addDialog.derivedId)
                        : qsTr("Model names start with it: %1/…").arg(addDialog.derivedId)
            }

            Caption {
                visible: addDialog.custom
                text: qsTr("Format")
            }
            AppComboBox {
                id: formatBox
                visible: addDialog.custom
                Layout.fillWidth: true
                model: ["openai", "anthropic", "gemini"]
                Accessible.name: qsTr("Wire format")
            }

            Caption {
                text: qsTr("Base URL")
            }
            AppTextField {
                id: urlField
                objectName: "providerUrl"
                Layout.fillWidth: true
                placeholderText: "https://…/v1"
                font.family: Theme.monoFamily
            }

            Caption {
                visible: addDialog.offersKey && !addDialog.useEnv
                text: qsTr("API key")
            }
            AppTextField {
                id: keyField
                objectName: "providerKey"
                visible: addDialog.offersKey && !addDialog.useEnv
                Layout.fillWidth: true
                echoMode: TextInput.Password
                placeholderText: addDialog.needsKey ? qsTr("Paste the key; it goes to the keychain")
                                                    : qsTr("Optional: the server's key, if it asks for one")
                Accessible.name: qsTr("API key")
            }

            Caption {
                visible: addDialog.useEnv
                text: qsTr("Variable")
            }
            AppTextField {
                id: envField
                objectName: "providerKeyEnv"
                visible: addDialog.useEnv
                Layout.fillWidth: true
                placeholderText: qsTr("Environment variable, e.g. OPENAI_API_KEY")
                font.family: Theme.monoFamily
                validator: RegularExpressionValidator {
                    regularExpression: /^[A-Za-z_][A-Za-z0-9_]*$|^$/
                }
            }

            Item {
                implicitWidth: 1
            }
            CheckBox {
                id: envToggle
                visible: App.keychainAvailable && addDialog.offersKey
                text: qsTr("Read the key from an environment variable instead")
                checked: addDialog.useEnv
                onToggled: addDialog.useEnv = envToggle.checked
                font.pixelSize: Theme.fontSmall
            }

            Caption {
                Layout.columnSpan: 2
                Layout.fillWidth: true
                visible: !addDialog.offersKey
                wrapMode: Text.Wrap
                text: qsTr("A local server needs no API key.")
            }
        }
    }

    // Set or replace an API key
    AppDialog {
        id: keyDialog

        property string providerId: ""
        property string providerName: ""

        function openFor(id: string, name: string) {
            keyDialog.providerId = id;
            keyDialog.providerName = name;
            newKeyField.text = "";
            keyDialog.open();
        }

        title: qsTr("API key for %1").arg(keyDialog.providerName)
        acceptText: qsTr("Save to keychain")
        acceptEnabled: newKeyField.text.length > 0
        onOpened: newKeyField.forceActiveFocus()
        onAccepted: {
            const error = providersModel.setApiKey(keyDialog.providerId, newKeyField.text);
            newKeyField.text = "";
            if (error.length > 0)
                page.notify(error, true);
            else
                providersModel.testConnection(keyDialog.providerId);
        }
        onRejected: newKeyField.text = ""

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.space2
            AppTextField {
                id: newKeyField
                Layout.fillWidth: true
                echoMode: TextInput.Password
                placeholderText: qsTr("Paste the new API key")
                onAccepted: if (keyDialog.acceptEnabled) keyDialog.accept()
            }
            Caption {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                text: qsTr("It replaces the key stored in the system keychain. Gatehouse never shows it again in full.")
            }
        }
    }

    // Edit a provider (its id stays: model names start with it)
    AppDialog {
        id: editDialog

        property string providerId: ""

        function openFor(id: string, name: string, format: string, baseUrl: string, env: string) {
            editDialog.providerId = id;
            editDialog.title = qsTr("Edit %1").arg(name);
            editFormat.currentIndex = Math.max(0, editFormat.model.indexOf(format));
            editUrl.text = baseUrl;
            editEnv.text = env;
            editDialog.open();
        }

        width: Math.min(560, parent ? parent.width - 2 * Theme.space6 : 560)
        acceptText: qsTr("Save")
        acceptEnabled: editUrl.text.trim().length > 0
        onAccepted: {
            const error = providersModel.updateProvider(editDialog.providerId, editFormat.currentText, editUrl.text.trim(), editEnv.text.trim());
            if (error.length > 0)
                page.notify(error, true);
            else
                providersModel.testConnection(editDialog.providerId);
        }

        GridLayout {
            anchors.fill: parent
            columns: 2
            columnSpacing: Theme.space3
            rowSpacing: Theme.space3

            Caption {
                text: qsTr("Id")
            }
            Label {
                text: editDialog.providerId
                font.family: Theme.monoFamily
                color: Theme.textMuted
            }
            Caption {
                text: qsTr("Format")
            }
            AppComboBox {
                id: editFormat
                Layout.fillWidth: true
                model: ["openai", "anthropic", "gemini"]
                Accessible.name: qsTr("Wire format")
            }
            Caption {
                text: qsTr("Base URL")
            }
            AppTextField {
                id: editUrl
                Layout.fillWidth: true
                font.family: Theme.monoFamily
                Accessible.name: qsTr("Base URL")
            }
            Caption {
                text: qsTr("Variable")
            }
            AppTextField {
                id: editEnv
                Layout.fillWidth: true
                placeholderText: qsTr("Optional: environment variable with the key")
                font.family: Theme.monoFamily
                Accessible.name: qsTr("Key environment variable")
            }
        }
    }

    // A provider's data policy: each field from the published terms, or the user's own value
    // (what their contract says: ZDR granted, a region chosen). Saved as the config's "data_policy".
    AppDialog {
        id: policyDialog

        property string providerId: ""
        property var policy: ({})

        function choice(box: AppComboBox, value: string) {
            box.currentIndex = Math.max(0, box.model.map(o => o.value).indexOf(value));
        }
        function openFor(id: string, name: string, policy: var) {
            policyDialog.providerId = id;
            policyDialog.policy = policy;
            policyDialog.title = qsTr("Data policy of %1").arg(name);
            policyRetains.text = policy.ownRetainsPrompts ?? "";
            policyDialog.choice(policyTrains, policy.ownTrainsOnData ?? "");
            policyDialog.choice(policyZdr, policy.ownZdr ?? "");
            policyRegion.text = policy.ownRegion ?? "";
            policyDialog.open();
        }
        function published(value: string): string {
            return value.length > 0 ? qsTr("published: %1").arg(value) : qsTr("published: unknown");
        }

        width: Math.min(560, parent ? parent.width - 2 * Theme.space6 : 560)
        acceptText: qsTr("Save")
        onAccepted: {
            const error = providersModel.setDataPolicy(policyDialog.providerId, {
                retains_prompts: policyRetains.text.trim(),
                trains_on_data: policyTrains.currentValue,
                zdr: policyZdr.currentValue,
                region: policyRegion.text.trim()
            });
            if (error.length > 0)
                page.notify(error, true);
        }

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.space3

            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                font.pixelSize: Theme.fontSmall
                color: Theme.textMuted
                text: (policyDialog.policy.sourceName ?? "").length > 0
                      ? qsTr("Empty fields follow %1's published terms (%2, read %3). Set what your own agreement says, e.g. ZDR when it was granted.")
                            .arg(policyDialog.policy.sourceName).arg(policyDialog.policy.source).arg(policyDialog.policy.sourceDate)
                      : qsTr("No published terms are known for this provider: empty fields are unknown, and an unknown never meets a key's required policy.")
            }
            GridLayout {
                Layout.fillWidth: true
                columns: 2
                columnSpacing: Theme.space3
                rowSpacing: Theme.space3

                Caption {
                    text: qsTr("Keeps prompts")
                }
                AppTextField {
                    id: policyRetains
                    Layout.fillWidth: true
                    placeholderText: qsTr("days, or none (%1)").arg(policyDialog.published(policyDialog.policy.retainsPrompts ?? ""))
                    Accessible.name: qsTr("Days the provider keeps prompts")
                }
                Caption {
                    text: qsTr("Trains on data")
                }
                AppComboBox {
                    id: policyTrains
                    Layout.fillWidth: true
                    textRole: "label"
                    valueRole: "value"
                    model: [
                        { value: "", label: qsTr("Published terms") },
                        { value: "no", label: qsTr("No") },
                        { value: "opt-out", label: qsTr("Unless opted out") },
                        { value: "yes", label: qsTr("Yes") }
                    ]
                    Accessible.name: qsTr("Trains on data")
                }
                Caption {
                    text: qsTr("Zero data retention")
                }
                AppComboBox {
                    id: policyZdr
                    Layout.fillWidth: true
                    textRole: "label"
                    valueRole: "value"
                    model: [
                        { value: "", label: qsTr("Published terms") },
                        { value: "true", label: qsTr("On for this account") },
                        { value: "false", label: qsTr("Off") }
                    ]
                    Accessible.name: qsTr("Zero data retention")
                }
                Caption {
                    text: qsTr("Region")
                }
                AppTextField {
                    id: policyRegion
                    Layout.fillWidth: true
                    placeholderText: qsTr("eu, us… (%1)").arg(policyDialog.published(policyDialog.policy.region ?? ""))
                    Accessible.name: qsTr("Region where prompts are processed")
                }
            }
        }
    }

    // Prices of a provider's models: what the catalog says, or the user's own
    AppDialog {
        id: priceDialog
        objectName: "priceDialog"

        property string providerId: ""
        property string providerName: ""
        property list<string> names: []
        readonly property var current: priceDialog.providerId.length > 0 && priceModelField.text.trim().length > 0
                                       ? providersModel.modelPrice(priceDialog.providerId, priceModelField.text.trim()) : ({})

        function openFor(id: string, name: string) {
            priceDialog.providerId = id;
            priceDialog.providerName = name;
            priceDialog.names = providersModel.pricedModelNames(id);
            priceModelField.text = priceDialog.names.length > 0 ? priceDialog.names[0] : "";
            priceDialog.fill();
            priceDialog.open();
        }
        function amount(value: real): string {
            return value >= 0 ? String(value) : "";
        }
        function fill() {
            const c = priceDialog.current;
            inputPrice.text = priceDialog.amount(c.input ?? -1);
            outputPrice.text = priceDialog.amount(c.output ?? -1);
            cachePrice.text = priceDialog.amount(c.cacheRead ?? -1);
        }
        function number(text: string): real {
            const t = text.trim().replace(",", ".");
            return t.length === 0 ? -1 : Number(t);
        }

        title: qsTr("Prices of %1's models").arg(priceDialog.providerName)
        width: Math.min(560, parent ? parent.width - 2 * Theme.space6 : 560)
        acceptText: qsTr("Save price")
        acceptEnabled: priceModelField.text.trim().length > 0 && inputPrice.acceptableInput && outputPrice.acceptableInput
                       && inputPrice.text.length > 0 && outputPrice.text.length > 0
        onAccepted: {
            const error = providersModel.setModelPrice(priceDialog.providerId, priceModelField.text.trim(),
                                                       priceDialog.number(inputPrice.text), priceDialog.number(outputPrice.text),
                                                       priceDialog.number(cachePrice.text));
            if (error.length > 0)
                page.notify(error, true);
            else
                page.notify(qsTr("%1 is priced now").arg(priceDialog.current.modelId ?? priceModelField.text.trim()), false);
        }

        GridLayout {
            anchors.fill: parent
            columns: 2
            columnSpacing: Theme.space3
            rowSpacing: Theme.space3

            Caption {
                text: qsTr("Model")
            }
            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.space2
                AppTextField {
                    id: priceModelField
                    objectName: "priceModel"
                    Layout.fillWidth: true
                    placeholderText: qsTr("The provider's name for it, e.g. gpt-mock")
                    font.family: Theme.monoFamily
                    Accessible.name: qsTr("Model")
                    onEditingFinished: priceDialog.fill()
                }
                AppComboBox {
                    id: priceModel
                    visible: priceDialog.names.length > 0
                    Layout.preferredWidth: 150
                    model: priceDialog.names
                    displayText: qsTr("Listed models")
                    Accessible.name: qsTr("Models the provider lists")
                    onActivated: index => {
                        priceModelField.text = priceDialog.names[index];
                        priceDialog.fill();
                    }
                }
            }

            Item {
                implicitWidth: 1
            }
            Caption {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: priceDialog.current.priced === true ? Theme.textMuted : Theme.warning
                text: priceDialog.current.source === "catalog"
                      ? qsTr("%1 is priced from the price catalog. A price saved here replaces it.").arg(priceDialog.current.modelId)
                      : priceDialog.current.source === "yours" ? qsTr("%1 uses the price you set.").arg(priceDialog.current.modelId)
                      : qsTr("%1 has no price: its cost cannot be counted, and keys with a limit refuse it unless they allow unpriced models.")
                        .arg(priceDialog.current.modelId ?? qsTr("This model"))
            }

            Caption {
                text: qsTr("Input")
            }
            AppTextField {
                id: inputPrice
                objectName: "priceInput"
                Layout.fillWidth: true
                placeholderText: qsTr("$ per 1M input tokens, e.g. 0.40")
                Accessible.name: qsTr("Input price in dollars per million tokens")
                validator: RegularExpressionValidator {
                    regularExpression: /^\d{0,6}([.,]\d{0,6})?$/
                }
            }
            Caption {
                text: qsTr("Output")
            }
            AppTextField {
                id: outputPrice
                objectName: "priceOutput"
                Layout.fillWidth: true
                placeholderText: qsTr("$ per 1M output tokens, e.g. 1.60")
                Accessible.name: qsTr("Output price in dollars per million tokens")
                validator: RegularExpressionValidator {
                    regularExpression: /^\d{0,6}([.,]\d{0,6})?$/
                }
            }
            Caption {
                text: qsTr("Cache read")
            }
            AppTextField {
                id: cachePrice
                Layout.fillWidth: true
                placeholderText: qsTr("Optional: $ per 1M cached input tokens")
                Accessible.name: qsTr("Cache read price in dollars per million tokens")
                validator: RegularExpressionValidator {
                    regularExpression: /^\d{0,6}([.,]\d{0,6})?$/
                }
            }
        }
    }

    // Remove
    AppDialog {
        id: removeDialog

        property string providerId: ""
        property string providerName: ""

        function openFor(id: string, name: string) {
            removeDialog.providerId = id;
            removeDialog.providerName = name;
            removeDialog.open();
        }

        title: qsTr("Remove %1?").arg(removeDialog.providerName)
        acceptText: qsTr("Remove")
        acceptVariant: "danger"
        onAccepted: providersModel.remove(removeDialog.providerId)

        ColumnLayout {
            anchors.fill: parent
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textMuted
                text: qsTr("Requests for its models fail until you add it again. Its API key is deleted from the keychain; the request log keeps its history.")
            }
        }
    }
}
