pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// The main window: a navigation rail on the left and one page at a time on the right. Pages are
// created the first time they are shown and kept afterwards.
ApplicationWindow {
    id: window

    // What every page and model reads (set by showMainWindow()); each page gets it as `backend`.
    required property Backend backend

    // The pages, in rail order: the rail's buttons, the Ctrl+1… shortcuts and the page stack are all
    // made from this one list. Pages ask for another one by name (openPage("keys")). `file` is
    // relative to this file (ui/shell/), in the page's feature folder.
    readonly property var pages: [
        { name: "dashboard", label: qsTr("Dashboard"), icon: "dashboard", file: "../dashboard/DashboardPage.qml" },
        { name: "keys", label: qsTr("Keys"), icon: "key", file: "../keys/KeysPage.qml" },
        { name: "providers", label: qsTr("Providers"), icon: "server", file: "../providers/ProvidersPage.qml" },
        { name: "routes", label: qsTr("Routes"), icon: "route", file: "../routes/RoutesPage.qml" },
        { name: "activity", label: qsTr("Activity"), icon: "activity", file: "../activity/ActivityPage.qml" },
        { name: "compare", label: qsTr("Compare"), icon: "columns", file: "../compare/ComparePage.qml" },
        { name: "rankings", label: qsTr("Rankings"), icon: "trophy", file: "../insights/RankingsPage.qml" },
        { name: "cache", label: qsTr("Cache"), icon: "layers", file: "../insights/CachePage.qml" },
        { name: "settings", label: qsTr("Settings"), icon: "settings", file: "../settings/SettingsPage.qml" },
        { name: "whatif", label: qsTr("What if"), icon: "scale", file: "../whatif/WhatIfPage.qml" },
        { name: "guardrails", label: qsTr("Guardrails"), icon: "alert", file: "../guardrails/GuardrailsPage.qml" }
    ]
    property int currentPage: 0
    property int visitedPages: 1

    function showPage(page: int) {
        window.currentPage = page;
    }
    // "providers", or "providers/add": the page, then an action the page offers (runAction()); the
    // action is everything after the first "/".
    function openPage(name: string) {
        const parts = name.split("/");
        const index = window.pages.findIndex(p => p.name === parts[0]);
        if (index < 0)
            return;
        window.showPage(index);
        const loader = pageRepeater.itemAt(index);
        if (parts.length > 1 && loader && loader.item && typeof loader.item.runAction === "function")
            loader.item.runAction(name.slice(parts[0].length + 1)); // the rest: a session id may hold a "/"
    }
    function notify(message: string, isError: bool) {
        toast.show(message, isError);
    }

    onCurrentPageChanged: window.visitedPages |= 1 << window.currentPage

    width: 1280
    height: 820
    minimumWidth: 920
    minimumHeight: 600
    visible: true
    title: App.pausedAll ? qsTr("Gatehouse — all keys paused") : qsTr("Gatehouse")
    color: Theme.window
    font.pixelSize: Theme.fontBody

    palette.window: Theme.window
    palette.windowText: Theme.text
    palette.base: Theme.inputBackground
    palette.alternateBase: Theme.surfaceAlt
    palette.text: Theme.text
    palette.button: Theme.surface
    palette.buttonText: Theme.text
    palette.brightText: Theme.textOnAccent
    palette.highlight: Theme.accent
    palette.highlightedText: Theme.textOnAccent
    palette.light: Theme.surface
    palette.midlight: Theme.surfaceAlt
    palette.mid: Theme.borderStrong
    palette.dark: Theme.textMuted
    palette.shadow: "#000000" // the dimming behind modal dialogs
    palette.toolTipBase: Theme.dark ? "#e7e9ed" : "#1c1f26"
    palette.toolTipText: Theme.dark ? "#171a20" : "#f2f3f5"
    palette.placeholderText: Theme.textFaint
    palette.link: Theme.accent

    Binding {
        target: Theme
        property: "forced"
        // GATEHOUSE_THEME (screenshots, tests) wins over the choice made in Settings.
        value: App.themeOverride.length > 0 ? App.themeOverride : App.theme === "system" ? "" : App.theme
    }

    // Ctrl+1 … Ctrl+9 show the first nine pages in rail order.
    Instantiator {
        model: Math.min(9, window.pages.length)
        delegate: Shortcut {
            required property int index
            sequence: "Ctrl+" + (index + 1)
            onActivated: window.showPage(index)
        }
    }
    // Ctrl+Tab / Ctrl+PgDown and back, as in a browser: every page, also those past the ninth.
    Shortcut {
        sequences: ["Ctrl+Tab", "Ctrl+PgDown"]
        onActivated: window.showPage((window.currentPage + 1) % window.pages.length)
    }
    Shortcut {
        sequences: ["Ctrl+Shift+Tab", "Ctrl+Backtab", "Ctrl+PgUp"]
        onActivated: window.showPage((window.currentPage + window.pages.length - 1) % window.pages.length)
    }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        // Navigation rail
        Rectangle {
            Layout.fillHeight: true
            Layout.preferredWidth: 92
            color: Theme.rail

            Rectangle {
                anchors.right: parent.right
                width: 1
                height: parent.height
                color: Theme.border
            }

            // The rail scrolls when the window is shorter than its buttons (at the minimum height,
            // 600 px, "Settings" and "Pause all" were cut off); otherwise the spacer keeps the kill
            // switch at the bottom.
            Flickable {
                id: railFlick
                objectName: "rail"
                anchors.fill: parent
                contentWidth: width
                contentHeight: railColumn.height + 2 * Theme.space4
                boundsBehavior: Flickable.StopAtBounds
                clip: true
                ScrollBar.vertical: ScrollBar {
                    policy: railFlick.contentHeight > railFlick.height ? ScrollBar.AsNeeded : ScrollBar.AlwaysOff
                    width: 6
                }

                ColumnLayout {
                    id: railColumn
                    y: Theme.space4
                    width: railFlick.width
                    height: Math.max(railColumn.implicitHeight, railFlick.height - 2 * Theme.space4)
                    spacing: Theme.space1

                    Image {
                        Layout.alignment: Qt.AlignHCenter
                        Layout.bottomMargin: teamChip.visible ? Theme.space1 : Theme.space4
                        source: Theme.icon("gatehouse") // the application icon
                        sourceSize.width: 40
                        sourceSize.height: 40
                        Accessible.role: Accessible.Graphic
                        Accessible.name: qsTr("Gatehouse")
                    }

                    // A team store's state (connected / degraded / offline), at the top where it
                    // is seen without scrolling the rail; a click shows the detail.
                    TeamChip {
                        id: teamChip
                        Layout.alignment: Qt.AlignHCenter
                        Layout.bottomMargin: Theme.space2
                        team: window.backend.team
                        onSettingsRequested: window.openPage("settings/team")
                    }

                    Repeater {
                        id: navRepeater

                        // Arrow keys move through the rail and show the page at once.
                        function step(delta: int) {
                            window.showPage(Math.max(0, Math.min(navRepeater.count - 1, window.currentPage + delta)));
                            navRepeater.itemAt(window.currentPage).forceActiveFocus(Qt.TabFocusReason);
                        }

                        model: window.pages

                        delegate: NavButton {
                            id: navButton
                            required property var modelData
                            required property int index
                            Layout.alignment: Qt.AlignHCenter
                            text: navButton.modelData.label
                            iconName: navButton.modelData.icon
                            shortcutText: navButton.index < 9 ? "Ctrl+" + (navButton.index + 1) : ""
                            checked: window.currentPage === navButton.index
                            onClicked: window.showPage(navButton.index)
                            Keys.onUpPressed: navRepeater.step(-1)
                            Keys.onDownPressed: navRepeater.step(1)
                        }
                    }

                    Item {
                        Layout.fillHeight: true
                    }

                    // The kill switch: refuse every model request until resumed.
                    AbstractButton {
                        id: killSwitch
                    objectName: "pauseAll"
                        Layout.alignment: Qt.AlignHCenter
                        implicitWidth: 76
                        implicitHeight: 60
                        focusPolicy: Qt.StrongFocus
                        text: App.pausedAll ? qsTr("Resume") : qsTr("Pause all")
                        Accessible.name: App.pausedAll ? qsTr("Resume all keys") : qsTr("Pause all keys")
                        ToolTip.visible: killSwitch.hovered || killSwitch.visualFocus
                        ToolTip.delay: 500
                        ToolTip.text: App.pausedAll ? qsTr("All keys are paused: tools get “Gatehouse is paused” and stop. Click to resume.")
                                                    : qsTr("Pause all keys: the gateway refuses every model request until resumed")
                        onClicked: App.pausedAll = !App.pausedAll

                        background: Rectangle {
                            radius: Theme.radius
                            color: App.pausedAll ? Theme.dangerSoft : killSwitch.hovered ? Theme.surfaceHover : "transparent"
                            border.width: killSwitch.visualFocus ? 2 : 0
                            border.color: Theme.accent
                        }
                        contentItem: ColumnLayout {
                            spacing: Theme.space1
                            Icon {
                                Layout.alignment: Qt.AlignHCenter
                                iconName: App.pausedAll ? "play" : "power"
                                size: 20
                                color: App.pausedAll ? Theme.danger : Theme.textMuted
                            }
                            Label {
                                Layout.alignment: Qt.AlignHCenter
                                text: killSwitch.text
                                font.pixelSize: Theme.fontCaption
                                color: App.pausedAll ? Theme.danger : Theme.textMuted
                            }
                        }
                    }

                    // Where the gateway listens
                    ColumnLayout {
                        Layout.alignment: Qt.AlignHCenter
                        Layout.topMargin: Theme.space2
                        spacing: 2

                        Rectangle {
                            Layout.alignment: Qt.AlignHCenter
                            implicitWidth: 8
                            implicitHeight: 8
                            radius: 4
                            color: App.pausedAll ? Theme.danger : Theme.ok
                        }
                        Label {
                            Layout.alignment: Qt.AlignHCenter
                            text: ":" + App.port
                            font.pixelSize: Theme.fontCaption
                            color: Theme.textFaint
                            Accessible.name: qsTr("Gateway listening on port %1").arg(App.port)
                        }
                    }
                }
            }
        }

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 0

            // The kill-switch banner
            Rectangle {
                Layout.fillWidth: true
                visible: App.pausedAll
                implicitHeight: bannerRow.implicitHeight + 2 * Theme.space2
                color: Theme.dangerSoft

                RowLayout {
                    id: bannerRow
                    anchors.fill: parent
                    anchors.leftMargin: Theme.space6
                    anchors.rightMargin: Theme.space6
                    spacing: Theme.space2
                    Icon {
                        iconName: "alert"
                        color: Theme.danger
                    }
                    Label {
                        Layout.fillWidth: true
                        text: qsTr("All keys are paused: the gateway answers every model request with 503.")
                        color: Theme.danger
                        font.weight: Font.Medium
                        elide: Text.ElideRight
                    }
                    AppButton {
                        text: qsTr("Resume")
                        icon.source: Theme.icon("play")
                        onClicked: App.pausedAll = false
                    }
                }
            }

            StackLayout {
                id: pages
                Layout.fillWidth: true
                Layout.fillHeight: true
                currentIndex: window.currentPage

                // Loaded from their files (a bound inline component cannot be given to a Loader in
                // Qt 6.4), with the backend as the page's required property: setSource() once the
                // loader is active (a source set while inactive loads later without its properties);
                // each page asks for another page or a toast through its signals.
                Repeater {
                    id: pageRepeater
                    model: window.pages
                    delegate: Loader {
                        id: pageLoader
                        required property int index
                        required property var modelData

                        function load() {
                            if (pageLoader.active && pageLoader.status === Loader.Null)
                                pageLoader.setSource(Qt.resolvedUrl(pageLoader.modelData.file), { backend: window.backend });
                        }

                        active: (window.visitedPages & (1 << pageLoader.index)) !== 0
                        onActiveChanged: pageLoader.load()
                        Component.onCompleted: pageLoader.load()
                        onStatusChanged: {
                            if (pageLoader.status === Loader.Error)
                                console.error(Qt.createComponent(pageLoader.source).errorString());
                        }

                        Connections {
                            target: pageLoader.item
                            ignoreUnknownSignals: true
                            function onOpenPage(name: string) {
                                window.openPage(name);
                            }
                            function onNotify(message: string, isError: bool) {
                                window.notify(message, isError);
                            }
                        }
                    }
                }
            }
        }
    }

    // Model servers on this machine, looked for once at start-up (the Providers page looks again
    // when it opens, and adds them in one click): the ones no provider points at yet are offered.
    ProvidersModel {
        id: startupProviders
        backend: window.backend
    }
    LocalServersModel {
        id: startupServers
        providers: startupProviders
        onScanningChanged: {
            if (startupServers.scanning)
                return;
            const names = startupServers.unaddedNames();
            if (names.length === 1)
                window.notify(qsTr("%1 is running on this machine: add it on the Providers page, priced $0 as local.").arg(names[0]), false);
            else if (names.length > 1)
                window.notify(qsTr("%1 are running on this machine: add them on the Providers page, priced $0 as local.").arg(names.join(", ")), false);
        }
    }

    Toast {
        id: toast
    }
}
