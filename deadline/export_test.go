package deadline

// MonitorEvaluations returns how many clock evaluations m's ticks made.
func MonitorEvaluations(m *Monitor) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.evals
}
