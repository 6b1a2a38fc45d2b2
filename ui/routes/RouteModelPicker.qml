pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import Gatehouse

// A searchable list of model ids: type to filter (every word must match; Down shows them all),
// Up/Down to move, Enter to pick. A typed id that is not in the list can be picked too (the editor validates it).
AppTextField {
    id: picker

    property list<string> modelIds: []
    property list<string> exclude: []
    property int highlighted: 0

    signal picked(string modelId)

    readonly property list<string> matches: {
        const words = picker.text.trim().toLowerCase().split(/\s+/).filter(w => w.length > 0);
        return picker.modelIds.filter(id => picker.exclude.indexOf(id) < 0
                                      && words.every(w => id.toLowerCase().indexOf(w) >= 0));
    }

    function pick(index: int) {
        const id = index >= 0 && index < picker.matches.length ? picker.matches[index] : picker.text.trim();
        if (id.length === 0)
            return;
        picker.picked(id);
        picker.text = "";
        picker.highlighted = 0;
        list.close();
    }

    placeholderText: qsTr("Add a target: search models…")
    font.family: picker.text.length > 0 ? Theme.monoFamily : Theme.fontFamily
    leftPadding: Theme.space3 + 22
    Accessible.name: qsTr("Search models to add as a target")

    onTextChanged: {
        picker.highlighted = 0;
        if (picker.activeFocus && !list.opened && picker.text.length > 0)
            list.open();
    }
    onActiveFocusChanged: {
        if (!picker.activeFocus)
            list.close();
    }
    Keys.onDownPressed: {
        if (!list.opened)
            list.open();
        else
            picker.highlighted = Math.min(picker.matches.length - 1, picker.highlighted + 1);
    }
    Keys.onUpPressed: picker.highlighted = Math.max(0, picker.highlighted - 1)
    Keys.onEscapePressed: event => {
        if (list.opened) {
            list.close();
            event.accepted = true;
        } else {
            event.accepted = false;
        }
    }
    Keys.onReturnPressed: picker.pick(list.opened ? picker.highlighted : -1)
    Keys.onEnterPressed: picker.pick(list.opened ? picker.highlighted : -1)

    Icon {
        x: Theme.space3 - 2
        anchors.verticalCenter: parent.verticalCenter
        iconName: "search"
        size: 14
        color: Theme.textFaint
    }

    Popup {
        id: list
        y: picker.height + 2
        width: picker.width
        height: Math.min(260, view.contentHeight + 2 * list.padding)
        padding: 4
        closePolicy: Popup.CloseOnPressOutsideParent
        focus: false

        background: Rectangle {
            color: Theme.surface
            radius: Theme.radiusSmall
            border.color: Theme.border
        }

        ListView {
            id: view
            anchors.fill: parent
            clip: true
            model: picker.matches.length > 0 ? picker.matches : (picker.text.trim().length > 0 ? [picker.text.trim()] : [])
            currentIndex: picker.highlighted
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar {}

            delegate: ItemDelegate {
                id: option
                required property string modelData
                required property int index
                readonly property bool custom: picker.matches.length === 0
                width: view.width
                height: 28
                focusPolicy: Qt.NoFocus
                highlighted: option.index === picker.highlighted
                onClicked: picker.pick(option.custom ? -1 : option.index)

                background: Rectangle {
                    radius: Theme.radiusSmall - 2
                    color: option.highlighted ? Theme.accentSoft : option.hovered ? Theme.surfaceHover : "transparent"
                }
                contentItem: Label {
                    text: option.custom ? qsTr("Use “%1”").arg(option.modelData) : option.modelData
                    font.family: option.custom ? Theme.fontFamily : Theme.monoFamily
                    font.pixelSize: Theme.fontSmall
                    color: option.highlighted ? Theme.accent : Theme.text
                    elide: Text.ElideMiddle
                    verticalAlignment: Text.AlignVCenter
                }
            }
        }
    }
}
