pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Layouts

// A surface with a subtle border and 8px corners. Children go into a ColumnLayout.
Rectangle {
    id: card

    default property alias content: column.data
    property int padding: Theme.space5
    property alias spacing: column.spacing

    color: Theme.surface
    radius: Theme.radius
    border.color: Theme.border
    border.width: 1
    implicitWidth: column.implicitWidth + 2 * card.padding
    implicitHeight: column.implicitHeight + 2 * card.padding

    ColumnLayout {
        id: column
        anchors.fill: parent
        anchors.margins: card.padding
        spacing: Theme.space3
    }
}
