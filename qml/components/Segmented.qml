pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts

// A compact segmented control: options [{value, label}], `current` holds the chosen value.
Rectangle {
    id: segmented

    required property var options
    property string current: ""
    property string accessibleName: ""

    implicitWidth: row.implicitWidth + 4
    implicitHeight: 28
    radius: Theme.radiusSmall
    color: Theme.surfaceAlt
    border.color: Theme.border
    Accessible.role: Accessible.PageTabList
    Accessible.name: segmented.accessibleName

    RowLayout {
        id: row
        anchors.fill: parent
        anchors.margins: 2
        spacing: 2

        Repeater {
            model: segmented.options
            delegate: AbstractButton {
                id: option
                required property var modelData
                Layout.fillHeight: true
                checkable: true
                checked: segmented.current === option.modelData.value
                focusPolicy: Qt.StrongFocus
                text: option.modelData.label
                leftPadding: Theme.space3
                rightPadding: Theme.space3
                Accessible.role: Accessible.PageTab
                Accessible.name: option.text
                onClicked: segmented.current = option.modelData.value
                background: Rectangle {
                    radius: Theme.radiusSmall - 1
                    color: option.checked ? Theme.surface : option.hovered ? Theme.surfaceHover : "transparent"
                    border.width: option.visualFocus ? 2 : (option.checked ? 1 : 0)
                    border.color: option.visualFocus ? Theme.accent : Theme.border
                }
                contentItem: Label {
                    text: option.text
                    font.pixelSize: Theme.fontSmall
                    font.weight: option.checked ? Font.DemiBold : Font.Normal
                    color: option.checked ? Theme.text : Theme.textMuted
                    horizontalAlignment: Text.AlignHCenter
                    verticalAlignment: Text.AlignVCenter
                }
            }
        }
    }
}
