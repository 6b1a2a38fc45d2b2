import QtQuick
import QtQuick.Controls.Basic

// The small heading at the top of a card.
Label {
    font.pixelSize: Theme.fontTitle
    font.weight: Font.DemiBold
    color: Theme.text
    elide: Text.ElideRight
    Accessible.role: Accessible.Heading
}
