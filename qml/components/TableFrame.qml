pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Layouts

// The rounded frame of a table: its children (a TableHeader, then the rows' view) are stacked in a
// column 1 px inside the border, which the header band's rounded top fits.
Rectangle {
    id: frame

    default property alias content: column.data

    radius: Theme.radius
    color: Theme.surface
    border.color: Theme.border
    clip: true

    ColumnLayout {
        id: column
        anchors.fill: parent
        anchors.margins: 1
        spacing: 0
    }
}
