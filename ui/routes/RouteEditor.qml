pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Layouts
import Gatehouse

// Create or edit a route: its name, the strategy (with what it means), and the targets — added
// from a searchable list of models, reordered by dragging the handle (or with Up/Down on it),
// weighted with sliders for the weighted strategy. Problems show as you type; Save is enabled
// once there are none.
AppDialog {
    id: editor

    required property RoutesModel routes
    property string originalId: ""     // "" for a new route
    property string strategy: "ordered"
    property int revision: 0           // goes up with every change of the targets
    property bool idTouched: false
    property bool loading: false       // openNew() / openFor() are filling the form

    signal saved(string routeId)
    signal failed(string message)
    signal deleteRequested(string routeId)

    readonly property bool weighted: editor.strategy === "weighted"
    readonly property string idError: editor.routes.validateId(idField.text, editor.originalId)
    readonly property list<string> chosen: {
        editor.revision;
        const ids = [];
        for (let i = 0; i < draft.count; ++i)
            ids.push(draft.get(i).modelId);
        return ids;
    }
    readonly property int weightTotal: {
        editor.revision;
        let total = 0;
        for (let i = 0; i < draft.count; ++i)
            total += Math.max(0, draft.get(i).weight);
        return total;
    }
    readonly property string targetsError: {
        editor.revision;
        if (draft.count === 0)
            return qsTr("Add at least one target model.");
        for (let i = 0; i < draft.count; ++i) {
            const error = editor.routes.validateTarget(draft.get(i).modelId);
            if (error.length > 0)
                return error;
        }
        if (editor.weighted && editor.weightTotal === 0)
            return qsTr("Give at least one target a weight above 0.");
        return "";
    }

    function openNew() {
        editor.loading = true;
        editor.originalId = "";
        editor.strategy = "ordered";
        idField.text = "";
        draft.clear();
        editor.idTouched = false;
        editor.revision++;
        editor.loading = false;
        editor.open();
    }
    function openFor(routeId: string, strategy: string, targets: var) {
        editor.loading = true;
        editor.originalId = routeId;
        editor.strategy = strategy;
        idField.text = routeId;
        draft.clear();
        for (const t of targets)
            draft.append({ modelId: t.model, weight: t.weight });
        editor.idTouched = true;
        editor.revision++;
        editor.loading = false;
        editor.open();
    }
    function addTarget(modelId: string) {
        if (editor.chosen.indexOf(modelId) >= 0)
            return;
        draft.append({ modelId: modelId, weight: 50 });
        editor.revision++;
    }
    function removeTarget(index: int) {
        draft.remove(index, 1);
        editor.revision++;
    }
    function moveTarget(from: int, to: int) {
        if (from === to || from < 0 || to < 0 || from >= draft.count || to >= draft.count)
            return;
        draft.move(from, to, 1);
        editor.revision++;
    }
    function setWeight(index: int, weight: int) {
        draft.setProperty(index, "weight", weight);
        editor.revision++;
    }

    title: editor.originalId.length > 0 ? qsTr("Edit route “%1”").arg(editor.originalId) : qsTr("New route")
    width: Math.min(640, parent ? parent.width - 2 * Theme.space6 : 640)
    acceptText: qsTr("Save")
    acceptEnabled: editor.idError.length === 0 && editor.targetsError.length === 0
    onOpened: {
        if (editor.originalId.length === 0)
            idField.forceActiveFocus();
        else
            picker.forceActiveFocus();
    }
    onAccepted: {
        const targets = [];
        for (let i = 0; i < draft.count; ++i)
            targets.push({ model: draft.get(i).modelId, weight: draft.get(i).weight });
        const id = idField.text.trim();
        const error = editor.routes.saveRoute(editor.originalId, id, editor.strategy, targets);
        if (error.length > 0)
            editor.failed(error);
        else
            editor.saved(id);
    }

    ListModel {
        id: draft
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.space2

        Caption {
            text: qsTr("Name")
        }
        AppTextField {
            id: idField
            Layout.fillWidth: true
            placeholderText: qsTr("e.g. smart, fast, cheap")
            font.family: idField.text.length > 0 ? Theme.monoFamily : Theme.fontFamily
            Accessible.name: qsTr("Route name")
            onTextEdited: editor.idTouched = true
            onAccepted: if (editor.acceptEnabled) editor.accept()
        }
        Caption {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            visible: editor.idTouched || idField.text.length > 0
            color: editor.idError.length > 0 ? Theme.danger : Theme.textFaint
            text: editor.idError.length > 0 ? editor.idError
                : qsTr("Tools use it as the model name: \"model\": \"%1\"").arg(idField.text.trim())
        }

        Caption {
            Layout.topMargin: Theme.space2
            text: qsTr("Strategy")
        }
        Segmented {
            accessibleName: qsTr("Strategy")
            options: editor.routes.strategies()
            current: editor.strategy
            onCurrentChanged: {
                editor.strategy = current;
                // Weights left at the config's default (1) would sit at the slider's very start.
                if (!editor.loading && current === "weighted" && editor.weightTotal <= draft.count) {
                    for (let i = 0; i < draft.count; ++i)
                        draft.setProperty(i, "weight", 50);
                    editor.revision++;
                }
            }
        }
        Caption {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            text: editor.routes.strategyHint(editor.strategy)
        }

        RowLayout {
            Layout.topMargin: Theme.space2
            Layout.fillWidth: true
            Caption {
                text: qsTr("Targets")
            }
            Caption {
                Layout.fillWidth: true
                horizontalAlignment: Text.AlignRight
                visible: draft.count > 1
                color: Theme.textFaint
                text: editor.strategy === "ordered" ? qsTr("Drag the handle (or press ↑ ↓ on it) to set the failover order")
                                                    : qsTr("Drag the handle (or press ↑ ↓ on it) to reorder; ties go to the first")
            }
        }

        // The targets; each row is a drop area, its content follows the handle while dragged.
        ListView {
            id: targetsView
            Layout.fillWidth: true
            Layout.preferredHeight: Math.min(contentHeight, 5 * 44)
            visible: draft.count > 0
            clip: true
            interactive: contentHeight > height
            boundsBehavior: Flickable.StopAtBounds
            spacing: 4
            model: draft

            moveDisplaced: Transition {
                NumberAnimation {
                    properties: "y"
                    duration: Theme.animationFast
                }
            }

            delegate: DropArea {
                id: slot
                required property int index
                required property string modelId
                required property int weight

                width: targetsView.width
                height: 40
                keys: ["gatehouse/route-target"]
                onEntered: drag => {
                    const from = drag.source && drag.source.dragIndex !== undefined ? drag.source.dragIndex : -1;
                    editor.moveTarget(from, slot.index);
                }

                RouteTargetRow {
                    id: row
                    width: slot.width
                    height: slot.height
                    anchors.verticalCenter: slot.verticalCenter
                    anchors.horizontalCenter: slot.horizontalCenter
                    dragIndex: slot.index
                    modelId: slot.modelId
                    weight: slot.weight
                    weighted: editor.weighted
                    weightTotal: editor.weightTotal
                    position: slot.index
                    count: draft.count
                    health: (editor.routes.healthRevision, editor.routes.healthOf(slot.modelId))
                    healthTip: (editor.routes.healthRevision, editor.routes.healthTipOf(slot.modelId))
                    problem: (editor.revision, editor.routes.validateTarget(slot.modelId))
                    Drag.keys: ["gatehouse/route-target"]
                    onMoveRequested: to => editor.moveTarget(slot.index, to)
                    onRemoveRequested: editor.removeTarget(slot.index)
                    onWeightMoved: value => editor.setWeight(slot.index, value)

                    states: State {
                        when: row.dragging
                        ParentChange {
                            target: row
                            parent: targetsView
                        }
                        AnchorChanges {
                            target: row
                            anchors.verticalCenter: undefined
                            anchors.horizontalCenter: undefined
                        }
                    }
                }
            }
        }

        RouteModelPicker {
            id: picker
            objectName: "routeTargetSearch"
            Layout.fillWidth: true
            modelIds: editor.routes.modelIds
            exclude: editor.chosen
            onPicked: modelId => editor.addTarget(modelId)
        }
        Caption {
            Layout.fillWidth: true
            visible: editor.routes.modelIds.length === 0
            wrapMode: Text.Wrap
            color: Theme.warning
            text: qsTr("No models yet: add a provider on the Providers page first (local servers such as Ollama count too).")
        }
        Caption {
            Layout.fillWidth: true
            visible: draft.count > 0 && editor.targetsError.length > 0
            wrapMode: Text.Wrap
            color: Theme.danger
            text: editor.targetsError
        }

        AppButton {
            Layout.topMargin: Theme.space2
            visible: editor.originalId.length > 0
            variant: "danger"
            text: qsTr("Delete route…")
            icon.source: Theme.icon("trash")
            onClicked: {
                const id = editor.originalId;
                editor.reject();
                editor.deleteRequested(id);
            }
        }
    }
}
