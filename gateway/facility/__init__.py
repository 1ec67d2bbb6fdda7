"""Facility services for members and staff: bookings, print release, alerts, work orders."""
