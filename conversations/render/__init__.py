"""Files a flow sends: charts drawn for a phone, calendar files."""
