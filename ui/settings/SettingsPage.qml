pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// Gateway port, telemetry, tray and login behaviour, currency display, the data folder and clearing the log.
PageBase {
    id: page

    ScrollPage {
        anchors.fill: parent
        maxContentWidth: 820

        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Settings")
            subtitle: qsTr("Gatehouse %1").arg(App.version)
        }

        // Gateway
        Card {
            Layout.fillWidth: true
            spacing: Theme.space4

            SectionTitle {
                text: qsTr("Gateway")
            }
            SettingRow {
                title: qsTr("Port")
                description: qsTr("Tools connect to http://127.0.0.1:%1/v1. Applying a new port restarts the listener: update the tools that use the old one.").arg(App.port)

                AppTextField {
                    id: portField
                    Layout.preferredWidth: 96
                    horizontalAlignment: TextInput.AlignRight
                    text: String(settings.listeningPort)
                    font.family: Theme.monoFamily
                    validator: IntValidator {
                        bottom: 1
                        top: 65535
                    }
                    Accessible.name: qsTr("Port")
                    onAccepted: applyPort.clicked()
                }
                AppButton {
                    id: applyPort
                    text: qsTr("Apply")
                    variant: "primary"
                    enabled: portField.acceptableInput && Number(portField.text) !== settings.listeningPort
                    onClicked: {
                        settings.port = Number(portField.text);
                        if (settings.applyPort())
                            page.notify(qsTr("The gateway now listens on port %1").arg(settings.listeningPort), false);
                    }
                }
            }
            Label {
                Layout.fillWidth: true
                visible: settings.portError.length > 0
                text: settings.portError
                wrapMode: Text.Wrap
                color: Theme.danger
                font.pixelSize: Theme.fontSmall
            }
            GatewayWorkers {
                backend: page.backend
            }
        }

        // Store: this machine's SQLite file or a team's PostgreSQL (docs/team.md)
        Card {
            id: storeCard
            objectName: "storeSection"
            Layout.fillWidth: true
            spacing: Theme.space4

            SectionTitle {
                text: qsTr("Store")
            }
            SettingRow {
                title: storeSettings.isTeam ? qsTr("A team store") : qsTr("This machine's own store")
                description: storeSettings.isTeam
                             ? qsTr("Keys, budgets, routes and the request log are shared with the team on PostgreSQL.")
                             : qsTr("Keys, budgets and the request log live in a SQLite file in the data folder.")
                StatusChip {
                    text: storeSettings.isTeam ? qsTr("Team") : qsTr("Local")
                    tone: storeSettings.isTeam ? Theme.accent : Theme.textFaint
                }
            }
            Label {
                objectName: "storeInUse"
                Layout.fillWidth: true
                text: storeSettings.inUse
                font.family: Theme.monoFamily
                font.pixelSize: Theme.fontSmall
                color: Theme.textMuted
                wrapMode: Text.WrapAnywhere
            }
            Label {
                Layout.fillWidth: true
                visible: storeSettings.fallbackReason.length > 0
                text: storeSettings.fallbackReason
                wrapMode: Text.Wrap
                color: Theme.danger
                font.pixelSize: Theme.fontSmall
            }
            Divider {}
            SettingRow {
                title: storeSettings.isTeam ? qsTr("Another team store") : qsTr("Join a team")
                description: qsTr("The team's PostgreSQL URL. Saved in the data folder for the next start (readable by you only); --store on the command line wins over it.")
            }
            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.space2
                AppTextField {
                    id: storeUrl
                    objectName: "storeUrl"
                    Layout.fillWidth: true
                    Layout.minimumWidth: 160
                    placeholderText: "postgres://user:password@host:5432/gatehouse"
                    font.family: Theme.monoFamily
                    inputMethodHints: Qt.ImhNoAutoUppercase | Qt.ImhUrlCharactersOnly | Qt.ImhSensitiveData
                    Accessible.name: qsTr("Team store URL")
                    onAccepted: storeSettings.testConnection(storeUrl.text)
                }
                AppButton {
                    objectName: "storeTest"
                    text: qsTr("Test connection")
                    enabled: !storeSettings.busy && storeUrl.text.trim().length > 0
                    onClicked: storeSettings.testConnection(storeUrl.text)
                }
                AppButton {
                    objectName: "storeJoin"
                    text: qsTr("Join")
                    variant: "primary"
                    enabled: !storeSettings.busy && storeUrl.text.trim().length > 0
                    onClicked: storeSettings.join(storeUrl.text)
                }
            }
            RowLayout {
                Layout.fillWidth: true
                visible: storeSettings.busy || storeSettings.result.length > 0
                spacing: Theme.space2
                BusyIndicator {
                    running: storeSettings.busy
                    visible: storeSettings.busy
                    implicitWidth: 20
                    implicitHeight: 20
                    padding: 0
                }
                Label {
                    objectName: "storeResult"
                    Layout.fillWidth: true
                    text: storeSettings.result
                    wrapMode: Text.Wrap
                    font.pixelSize: Theme.fontSmall
                    color: storeSettings.busy ? Theme.textMuted : storeSettings.resultOk ? Theme.ok : Theme.danger
                }
            }
            RowLayout {
                Layout.fillWidth: true
                visible: storeSettings.isTeam || storeSettings.saved.length > 0
                spacing: Theme.space2
                Caption {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    text: storeSettings.saved.length > 0 ? qsTr("Saved for the next start: %1").arg(storeSettings.saved)
                                                         : qsTr("Saved for the next start: this machine's own store")
                }
                AppButton {
                    objectName: "storeLeave"
                    text: qsTr("Leave team")
                    variant: "danger"
                    enabled: !storeSettings.busy && (storeSettings.saved.length > 0 || storeSettings.isTeam && !storeSettings.restartNeeded)
                    onClicked: storeSettings.leave()
                }
            }
            Label {
                objectName: "storeRestart"
                Layout.fillWidth: true
                visible: storeSettings.restartNeeded
                text: qsTr("Restart Gatehouse to use the saved store: this run keeps the one above.")
                wrapMode: Text.Wrap
                color: Theme.warning
                font.weight: Font.Medium
            }
        }

        // Team: the state of the team store, the leases held here, the other instances
        Card {
            id: teamCard
            objectName: "teamSection"
            Layout.fillWidth: true
            visible: page.backend !== null && page.backend.team.isTeam
            spacing: Theme.space4

            SectionTitle {
                text: qsTr("Team")
            }
            TeamDetail {
                Layout.fillWidth: true
                team: page.backend.team
            }
        }

        // Telemetry: Prometheus and OpenTelemetry (docs/telemetry.md)
        Card {
            Layout.fillWidth: true
            spacing: Theme.space4

            SectionTitle {
                text: qsTr("Telemetry")
            }
            SettingRow {
                title: qsTr("Prometheus metrics")
                description: settings.metricsEnabled
                             ? qsTr("On: scrape http://127.0.0.1:%1/metrics with the token as a bearer. A new token replaces the old one.").arg(App.port)
                             : qsTr("Off. Requests, tokens, cost, latency, budgets and breakers at /metrics, for a Prometheus on this machine.")

                AppButton {
                    objectName: "newMetricsToken"
                    text: settings.metricsEnabled ? qsTr("New token…") : qsTr("Turn on…")
                    onClicked: {
                        tokenDialog.token = settings.newMetricsToken();
                        tokenDialog.open();
                    }
                }
                AppButton {
                    visible: settings.metricsEnabled
                    text: qsTr("Turn off")
                    onClicked: settings.disableMetrics()
                }
            }
            Divider {}
            SettingRow {
                title: qsTr("OpenTelemetry export")
                description: qsTr("Each request and upstream attempt becomes a span sent to this OTLP/HTTP traces URL. Prompts are never sent. Empty: off.")

                AppTextField {
                    id: otlpEndpoint
                    objectName: "otlpEndpoint"
                    Layout.preferredWidth: 260
                    text: settings.otlpEndpoint
                    placeholderText: "http://127.0.0.1:4318/v1/traces"
                    Accessible.name: qsTr("OTLP endpoint")
                    onAccepted: applyOtlp.clicked()
                }
            }
            SettingRow {
                title: qsTr("Collector headers")
                description: qsTr("name=value, separated by commas; name=$VARIABLE reads the value from that environment variable, so a credential is not stored.")

                AppTextField {
                    id: otlpHeaders
                    Layout.preferredWidth: 260
                    text: settings.otlpHeaders
                    placeholderText: "authorization=$OTLP_AUTH"
                    Accessible.name: qsTr("OTLP headers")
                    onAccepted: applyOtlp.clicked()
                }
                AppButton {
                    id: applyOtlp
                    text: qsTr("Apply")
                    variant: "primary"
                    enabled: otlpEndpoint.text !== settings.otlpEndpoint || otlpHeaders.text !== settings.otlpHeaders
                    onClicked: {
                        if (settings.applyOtlp(otlpEndpoint.text, otlpHeaders.text))
                            page.notify(otlpEndpoint.text.length > 0 ? qsTr("Spans go to %1").arg(otlpEndpoint.text)
                                                                     : qsTr("The OpenTelemetry export is off"), false);
                    }
                }
            }
            Label {
                Layout.fillWidth: true
                visible: settings.telemetryError.length > 0
                text: settings.telemetryError
                wrapMode: Text.Wrap
                color: Theme.danger
                font.pixelSize: Theme.fontSmall
            }
        }

        // Desktop
        Card {
            Layout.fillWidth: true
            spacing: Theme.space4

            SectionTitle {
                text: qsTr("Desktop")
            }
            SettingRow {
                title: qsTr("Start minimized to the tray")
                description: qsTr("The gateway starts with the window hidden; open it from the tray icon.")
                AppSwitch {
                    checked: settings.startMinimized
                    Accessible.name: qsTr("Start minimized to the tray")
                    onToggled: settings.startMinimized = checked
                }
            }
            Divider {}
            SettingRow {
                title: qsTr("Launch at login")
                description: qsTr("Start Gatehouse when you log in, so your tools always find the gateway.")
                AppSwitch {
                    checked: settings.launchAtLogin
                    Accessible.name: qsTr("Launch at login")
                    onToggled: settings.launchAtLogin = checked
                }
            }
            Label {
                Layout.fillWidth: true
                visible: settings.launchAtLoginError.length > 0
                text: settings.launchAtLoginError
                wrapMode: Text.Wrap
                color: Theme.danger
                font.pixelSize: Theme.fontSmall
            }
            Divider {}
            SettingRow {
                title: qsTr("Limit notifications")
                description: qsTr("A desktop notification when a key reaches 80% and 100% of a limit, once per period.")
                AppSwitch {
                    checked: settings.notificationsEnabled
                    Accessible.name: qsTr("Limit notifications")
                    onToggled: settings.notificationsEnabled = checked
                }
            }
        }

        // Display
        Card {
            Layout.fillWidth: true
            spacing: Theme.space4

            SectionTitle {
                text: qsTr("Display")
            }
            SettingRow {
                title: qsTr("Theme")
                description: App.themeOverride.length > 0
                             ? qsTr("Set to %1 by the GATEHOUSE_THEME environment variable.").arg(App.themeOverride)
                             : qsTr("Light, dark, or the same as your desktop.")

                AppComboBox {
                    id: themeBox
                    objectName: "themeBox"
                    readonly property list<string> values: ["system", "light", "dark"]
                    Layout.preferredWidth: 120
                    enabled: App.themeOverride.length === 0
                    model: [qsTr("System"), qsTr("Light"), qsTr("Dark")]
                    // An override from the environment shows as what it is.
                    currentIndex: Math.max(0, themeBox.values.indexOf(App.themeOverride.length > 0 ? App.themeOverride : App.theme))
                    Accessible.name: qsTr("Theme")
                    onActivated: index => App.theme = themeBox.values[index]
                }
            }
            Divider {}
            SettingRow {
                title: qsTr("Currency")
                description: settings.currency === "USD"
                             ? qsTr("Amounts are shown in US dollars, as providers bill them.")
                             : qsTr("Amounts are converted from US dollars at your rate. Limits stay in dollars.")

                Label {
                    visible: settings.currency !== "USD"
                    text: qsTr("1 USD =")
                    color: Theme.textMuted
                }
                AppTextField {
                    id: rateField
                    objectName: "currencyRate"
                    visible: settings.currency !== "USD"
                    Layout.preferredWidth: 80
                    horizontalAlignment: TextInput.AlignRight
                    text: Number(settings.currencyRate).toString()
                    validator: DoubleValidator {
                        bottom: 0.0001
                        decimals: 4
                        notation: DoubleValidator.StandardNotation
                    }
                    Accessible.name: qsTr("Exchange rate")
                    onEditingFinished: {
                        const rate = Number(rateField.text.replace(",", "."));
                        if (rate > 0)
                            settings.currencyRate = rate;
                    }
                }
                AppComboBox {
                    id: currencyBox
                    objectName: "currencyBox"
                    Layout.preferredWidth: 100
                    model: settings.currencies
                    currentIndex: Math.max(0, currencyBox.find(settings.currency))
                    Accessible.name: qsTr("Currency")
                    onActivated: index => settings.currency = settings.currencies[index]
                }
            }
        }

        // Data
        Card {
            Layout.fillWidth: true
            spacing: Theme.space4

            SectionTitle {
                text: qsTr("Data")
            }
            SettingRow {
                title: qsTr("Data folder")
                description: settings.dataDir

                AppButton {
                    text: qsTr("Open folder")
                    icon.source: Theme.icon("folder")
                    onClicked: settings.openDataDir()
                }
            }
            Divider {}
            SettingRow {
                title: qsTr("Clear the request log")
                description: qsTr("Deletes every logged request and the spending history. Keys, limits and providers stay.")

                AppButton {
                    text: settings.clearing ? qsTr("Clearing…") : qsTr("Clear data…")
                    enabled: !settings.clearing
                    variant: "danger"
                    icon.source: Theme.icon("trash")
                    onClicked: clearDialog.open()
                }
            }
        }

        // [capture] What is stored where (docs/capture.md), and the audit trail of changes.
        DataInventory {
            Layout.fillWidth: true
            dataDir: settings.dataDir
        }
        AuditTrail {
            Layout.fillWidth: true
            backend: page.backend
            onNotify: (message, error) => page.notify(message, error)
        }
    }

    // The scrape token, shown once: only its hash is stored.
    AppDialog {
        id: tokenDialog
        property string token: ""
        title: qsTr("Prometheus scrape token")
        showCancel: false
        acceptText: qsTr("Done")
        onClosed: tokenDialog.token = ""

        ColumnLayout {
            anchors.fill: parent
            spacing: Theme.space3
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textMuted
                text: qsTr("Copy it into your Prometheus scrape config (authorization: Bearer). It is shown only now.")
            }
            CodeBlock {
                Layout.fillWidth: true
                text: tokenDialog.token
            }
        }
    }

    AppDialog {
        id: clearDialog
        title: qsTr("Clear the request log?")
        acceptText: qsTr("Clear data")
        acceptVariant: "danger"
        onAccepted: settings.clearData()

        ColumnLayout {
            anchors.fill: parent
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textMuted
                text: qsTr("Every logged request and the spending history are deleted for good; spending counted against key limits starts again from zero. Keys, limits and providers are kept.")
            }
        }
    }

    // Declared last on purpose: QML evaluates a file's bindings in reverse order, so the controller
    // has its backend before any binding of this page reads it (a port that changed after the
    // page's bindings set the Apply button's enabled binding looping).
    StoreSettings {
        id: storeSettings
        backend: page.backend
    }
    SettingsController {
        id: settings
        backend: page.backend
        onClearFinished: (ok, message) => page.notify(ok ? qsTr("The request log was cleared") : message, !ok)
    }
}
