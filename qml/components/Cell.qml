import QtQuick
import QtQuick.Controls.Basic

// A table cell: one line, elided.
Label {
    font.pixelSize: Theme.fontBody
    color: Theme.text
    elide: Text.ElideRight
    maximumLineCount: 1
}
