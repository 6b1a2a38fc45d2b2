pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// Routes: named aliases a tool sends as its model ("model": "smart"); Gatehouse picks one of the
// targets by the route's strategy, fails over when one is down and keeps prompt caches warm. One
// card per route with live health dots; create and edit in a dialog (drag to reorder, weights).
// Below them, the model aliases that map the names tools send onto routes or models.
PageBase {
    id: page

    RoutesModel {
        id: routesModel
        backend: page.backend
    }

    AliasesModel {
        id: aliasesModel
        backend: page.backend
    }

    ScrollPage {
        anchors.fill: parent
        maxContentWidth: 1120

        PageHeader {
            Layout.fillWidth: true
            title: qsTr("Routes")
            subtitle: qsTr("One name, many models: a tool asks for a route as its model, Gatehouse picks the target, retries and fails over without the tool noticing.")

            AppButton {
                text: qsTr("New route")
                variant: "primary"
                icon.source: Theme.icon("plus")
                onClicked: editor.openNew()
            }
        }

        // What the dots mean
        RowLayout {
            Layout.fillWidth: true
            visible: routesModel.count > 0
            spacing: Theme.space4

            Caption {
                text: qsTr("Health, live:")
            }
            Row {
                spacing: Theme.space3
                Repeater {
                    model: [
                        { health: "healthy", label: qsTr("healthy") },
                        { health: "degraded", label: qsTr("errors or recovering") },
                        { health: "down", label: qsTr("down or rate limited") },
                        { health: "unknown", label: qsTr("no traffic yet") }
                    ]
                    delegate: Row {
                        id: legendItem
                        required property var modelData
                        spacing: 2
                        HealthDot {
                            anchors.verticalCenter: parent.verticalCenter
                            health: legendItem.modelData.health
                        }
                        Caption {
                            anchors.verticalCenter: parent.verticalCenter
                            text: legendItem.modelData.label
                        }
                    }
                }
            }
            // Fills what is left and elides: at the window's minimum width the legend alone is wider.
            Caption {
                Layout.fillWidth: true
                horizontalAlignment: Text.AlignRight
                elide: Text.ElideRight
                text: qsTr("Hover or focus a dot for its error rate and speed")
                color: Theme.textFaint
            }
        }

        Card {
            Layout.fillWidth: true
            visible: routesModel.count === 0
            EmptyState {
                Layout.topMargin: Theme.space5
                iconName: "route"
                title: qsTr("No routes yet")
                text: qsTr("A route is a model name of your own, such as “smart”. It points at one or more models; Gatehouse picks one — the first healthy, the cheapest, the fastest, by weight or by your Compare votes — and fails over to the next when a provider is down.")
                AppButton {
                    text: qsTr("Create your first route")
                    variant: "primary"
                    icon.source: Theme.icon("plus")
                    onClicked: editor.openNew()
                }
            }
            ColumnLayout {
                Layout.alignment: Qt.AlignHCenter
                Layout.preferredWidth: 440
                Layout.topMargin: Theme.space3
                Layout.bottomMargin: Theme.space5
                spacing: Theme.space2
                Caption {
                    Layout.fillWidth: true
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.Wrap
                    text: qsTr("Then any tool uses it like a model, with its Gatehouse key:")
                }
                CodeBlock {
                    Layout.fillWidth: true
                    text: "{\"model\": \"smart\", \"messages\": [...]}"
                    copyTip: qsTr("Copy the example")
                    onCopied: page.notify(qsTr("Example copied"), false)
                }
            }
        }

        // One card per route, in a positioner, not in the page's layout: a Quick Layout in Qt
        // 6.4 can touch a Repeater item that is being destroyed when the model resets, and crash.
        Column {
            id: cards
            Layout.fillWidth: true
            spacing: Theme.space4

            Repeater {
                model: routesModel
                delegate: RouteCard {
                    width: cards.width
                    onEditRequested: id => {
                        const row = routesModel.indexOf(id);
                        if (row < 0)
                            return;
                        const index = routesModel.index(row, 0);
                        editor.openFor(id, routesModel.data(index, RoutesModel.StrategyRole), routesModel.data(index, RoutesModel.TargetsRole));
                    }
                    onDeleteRequested: id => deleteDialog.openFor(id)
                    onCopied: text => page.notify(qsTr("Copied “%1”").arg(text), false)
                }
            }
        }

        AliasesCard {
            Layout.fillWidth: true
            aliases: aliasesModel
            onNewRequested: aliasEditor.openNew()
            onEditRequested: (row, match, target) => aliasEditor.openFor(row, match, target)
            onDeleteRequested: (row, match) => aliasDeleteDialog.openFor(row, match)
            onFailed: message => page.notify(qsTr("Could not change the aliases: %1").arg(message), true)
        }
    }

    AliasEditor {
        id: aliasEditor
        aliases: aliasesModel
        onSaved: (match, target) => page.notify(qsTr("Alias “%1” → “%2” saved; the gateway uses it now").arg(match).arg(target), false)
        onFailed: message => page.notify(qsTr("Could not save the alias: %1").arg(message), true)
    }

    AppDialog {
        id: aliasDeleteDialog

        property int row: -1
        property string match: ""

        function openFor(row: int, match: string) {
            aliasDeleteDialog.row = row;
            aliasDeleteDialog.match = match;
            aliasDeleteDialog.open();
        }

        title: qsTr("Delete alias “%1”?").arg(aliasDeleteDialog.match)
        acceptText: qsTr("Delete alias")
        acceptVariant: "danger"
        onAccepted: {
            // The row may have moved since the dialog opened (a config file applied): check the pattern.
            const index = aliasesModel.index(aliasDeleteDialog.row, 0);
            if (aliasesModel.data(index, AliasesModel.MatchRole) === aliasDeleteDialog.match && aliasesModel.remove(aliasDeleteDialog.row))
                page.notify(qsTr("Alias “%1” deleted").arg(aliasDeleteDialog.match), false);
            else
                page.notify(qsTr("Could not delete the alias “%1”").arg(aliasDeleteDialog.match), true);
        }

        ColumnLayout {
            anchors.fill: parent
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textMuted
                text: qsTr("Tools' model names matching “%1” are served as they are from now on, or by a later alias.").arg(aliasDeleteDialog.match)
            }
        }
    }

    RouteEditor {
        id: editor
        objectName: "routeEditor"
        routes: routesModel
        onSaved: id => page.notify(qsTr("Route “%1” saved; the gateway uses it now").arg(id), false)
        onFailed: message => page.notify(qsTr("Could not save the route: %1").arg(message), true)
        onDeleteRequested: id => deleteDialog.openFor(id)
    }

    // Delete
    AppDialog {
        id: deleteDialog

        property string routeId: ""

        function openFor(id: string) {
            deleteDialog.routeId = id;
            deleteDialog.open();
        }

        title: qsTr("Delete route “%1”?").arg(deleteDialog.routeId)
        acceptText: qsTr("Delete route")
        acceptVariant: "danger"
        onAccepted: {
            if (routesModel.remove(deleteDialog.routeId))
                page.notify(qsTr("Route “%1” deleted").arg(deleteDialog.routeId), false);
            else
                page.notify(qsTr("Could not delete the route “%1”").arg(deleteDialog.routeId), true);
        }

        ColumnLayout {
            anchors.fill: parent
            Label {
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: Theme.textMuted
                text: qsTr("Tools that send “%1” as their model get “model not found” from now on. The models it points at are not touched.").arg(deleteDialog.routeId)
            }
        }
    }
}
